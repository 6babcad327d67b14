"""One settings object for the whole platform, read from environment variables.

Every part chooses between its embedded default and its production engine here, never in
code: ``VOICEOPS_LAKE_BACKEND=lakefs`` moves the lake to a lakeFS server, and so on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform configuration; each field is also an environment variable (``VOICEOPS_*``)."""

    # An empty variable counts as unset: `VOICEOPS_GATE_POLICY=` keeps the packaged policy
    # (not the path "."), and an empty VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID the lakectl key.
    model_config = SettingsConfigDict(
        env_prefix="VOICEOPS_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    home: Path = Field(
        default=Path("~/.voiceops").expanduser(),
        description="Root of all local state (lake, warehouse, registry, Dagster storage).",
    )
    lake_backend: Literal["local", "lakefs"] = Field(
        default="local",
        description="'local': the embedded versioned store under VOICEOPS_HOME/lake; "
        "'lakefs': a lakeFS server configured the lakectl way (LAKECTL_* or ~/.lakectl.yaml).",
    )
    lake_fsync: bool = Field(
        default=True,
        description="Local lake: fsync objects and metadata so a power loss loses nothing "
        "committed (process crashes are safe either way).",
    )
    lake_lock_timeout_s: float = Field(
        default=60.0, description="Local lake: how long a writer waits for another one."
    )
    lakefs_storage_namespace: str = Field(
        default="",
        description="lakeFS: storage namespace prefix for new repositories, e.g. "
        "s3://bucket/voiceops (the repository name is appended).",
    )
    lake_repository: str = Field(
        default="contact-center", description="The lake repository the pipelines use."
    )

    sources_dir: Path | None = Field(
        default=None,
        description="Where the contact-center simulator writes its sources "
        "(default: VOICEOPS_HOME/sources).",
    )
    crm_api_url: str = Field(
        default="http://127.0.0.1:8765",
        description="Base URL of the CRM REST API the CRM connector syncs from.",
    )
    airbyte_rest_api_base_url: str = Field(
        default="",
        validation_alias="AIRBYTE_REST_API_BASE_URL",
        description="Airbyte server public API (e.g. http://airbyte:8000/api/public/v1); "
        "when set, ingestion runs on the Airbyte server instead of embedded connectors.",
    )
    airbyte_configuration_api_base_url: str = Field(
        default="", validation_alias="AIRBYTE_CONFIGURATION_API_BASE_URL"
    )
    airbyte_workspace_id: str = Field(default="", validation_alias="AIRBYTE_WORKSPACE_ID")
    airbyte_client_id: str = Field(default="", validation_alias="AIRBYTE_CLIENT_ID")
    airbyte_client_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="AIRBYTE_CLIENT_SECRET"
    )
    airbyte_poll_interval_s: float = Field(
        default=10.0, description="Airbyte server mode: seconds between polls of a sync job."
    )
    # Airbyte server mode lands through the lake's S3 gateway (see ingestion/airbyte/).
    airbyte_lake_s3_endpoint: str = Field(
        default="",
        description="The lakeFS S3 gateway as the Airbyte server reaches it (e.g. "
        "http://lakefs:8000); may differ from the API endpoint this platform uses.",
    )
    airbyte_lake_s3_region: str = Field(
        default="us-east-1",
        description="Region written into the S3 destination; lakeFS ignores it (its docs say "
        "us-east-1).",
    )
    airbyte_lake_access_key_id: str = Field(
        default="",
        validation_alias=AliasChoices(
            "VOICEOPS_AIRBYTE_LAKE_ACCESS_KEY_ID",
            "LAKECTL_CREDENTIALS_ACCESS_KEY_ID",
            "airbyte_lake_access_key_id",
        ),
        description="lakeFS access key the Airbyte S3 destination signs with "
        "(default: the lakectl one).",
    )
    airbyte_lake_secret_access_key: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices(
            "VOICEOPS_AIRBYTE_LAKE_SECRET_ACCESS_KEY",
            "LAKECTL_CREDENTIALS_SECRET_ACCESS_KEY",
            "airbyte_lake_secret_access_key",
        ),
        description="Its secret (default: the lakectl one); sent to the Airbyte server only.",
    )

    dbt_target: Literal["duckdb", "postgres"] = Field(
        default="duckdb",
        validation_alias="DBT_TARGET",
        description="Warehouse engine: 'duckdb' (a file under VOICEOPS_HOME) or 'postgres'.",
    )
    pg_host: str = Field(default="127.0.0.1", description="Postgres host (DBT_TARGET=postgres).")
    pg_port: int = Field(default=5432)
    pg_user: str = Field(default="postgres")
    pg_password: SecretStr = Field(
        default=SecretStr(""),
        description="Postgres password; a secret: passed to dbt's process only, never logged.",
    )
    pg_database: str = Field(default="voiceops", description="Created when missing.")

    mlflow_tracking_uri: str = Field(
        default="",
        validation_alias="MLFLOW_TRACKING_URI",
        description="MLflow tracking + registry store, e.g. postgresql://user@host/mlflow "
        "(default: SQLite under VOICEOPS_HOME/mlflow).",
    )
    mlflow_artifact_root: str = Field(
        default="",
        description="Where new MLflow experiments keep artifacts, e.g. s3://bucket/mlflow "
        "(default: VOICEOPS_HOME/mlflow/artifacts).",
    )

    events_url: str = Field(
        default="",
        description="Experiment event store: empty = SQLite under VOICEOPS_HOME/experiments "
        "(several processes write at once); postgresql://user@host/db = Postgres.",
    )

    pushgateway_url: str = Field(
        default="",
        description="Prometheus Pushgateway (e.g. http://pushgateway:9091): training pushes its "
        "epoch gauges there, and every pipeline run its pipeline metrics (job "
        "voiceops_pipeline); empty = no push (`voiceops monitor metrics` still prints them).",
    )

    prometheus_url: str = Field(
        default="",
        description="Prometheus server (e.g. http://prometheus:9090) `voiceops monitor status` "
        "asks for live serving figures and firing alerts; empty = none (the status says so).",
    )

    qdrant_url: str = Field(
        default="",
        description="Qdrant server (e.g. http://qdrant:6333) keeping the NLU utterance "
        "embeddings; empty = Qdrant's local mode under VOICEOPS_HOME/vectors (one process).",
    )

    gate_policy: Path | None = Field(
        default=None,
        description="The registry gate's thresholds file (default: the packaged "
        "registry/thresholds.yaml, versioned with the code).",
    )
    training_size: Literal["tiny", "demo"] = Field(
        default="demo",
        description="Preset of the runs the retraining sensor starts: 'demo' (minutes per "
        "family) or 'tiny' (seconds; tests).",
    )
    canary_template: Path | None = Field(
        default=None,
        description="The canary template of the retraining loop (rollout steps, guardrails, "
        "sample size; default: experiments/canary.yaml).",
    )
    lake_gc_retention_days: float = Field(
        default=7.0,
        description="The lake GC schedule keeps objects a commit of this many days still "
        "needs (embedded lake; lakeFS runs its own GC job).",
    )

    pseudonym_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key of the customers' pseudonyms (HMAC-SHA256) in the curated layers; "
        "empty = a key made once in VOICEOPS_HOME/keys/pseudonym.key (outside the data).",
    )
    subject_keys_url: str = Field(
        default="",
        description="Where the per-subject keys sealing personal data in the lake live (erasure "
        "destroys one): empty = SQLite under VOICEOPS_HOME/keys; postgresql://user@host/db = "
        "Postgres. Back it up; never put it in the lake.",
    )
    retention_policy: Path | None = Field(
        default=None,
        description="Days each layer keeps personal data (default: the packaged "
        "governance/retention.yaml); enforced by `voiceops privacy retention` and daily.",
    )

    hook_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Shared secret the lakeFS pre-merge hook sends (header "
        "X-VoiceOps-Hook-Secret); the hook server refuses requests without it.",
    )

    auth: Literal["off", "required"] = Field(
        default="off",
        description="'required': the serving API and the pre-merge hook accept only callers "
        "with an API key or bearer token whose role holds the endpoint's scope; 'off': no "
        "check, and `voiceops serve` then listens on loopback only.",
    )
    access_url: str = Field(
        default="",
        description="Where the hashed API keys live: empty = SQLite under "
        "VOICEOPS_HOME/access; postgresql://user@host/db = Postgres (shared by replicas).",
    )
    api_key: SecretStr = Field(
        default=SecretStr(""),
        description="The API key (or bearer token) `voiceops turn`, the traffic simulator and "
        "the demo send to the serving API when it requires auth.",
    )
    auth_jwks_url: str = Field(
        default="",
        description="The identity provider's JWKS URL (OIDC); bearer JWTs are checked against "
        "its public keys. Empty with no public key = only API keys are accepted.",
    )
    auth_jwt_public_key: str = Field(
        default="", description="A PEM public key checking bearer JWTs, instead of a JWKS URL."
    )
    auth_jwt_issuer: str = Field(default="", description="Required `iss` of bearer JWTs.")
    auth_jwt_audience: str = Field(default="", description="Required `aud` of bearer JWTs.")
    auth_roles_claim: str = Field(
        default="roles", description="The JWT claim listing the caller's VoiceOps roles."
    )

    trail_url: str = Field(
        default="",
        description="The trail of who did what: empty = SQLite under VOICEOPS_HOME/trail; "
        "postgresql://user@host/db = Postgres.",
    )
    trail_key: SecretStr = Field(
        default=SecretStr(""),
        description="HMAC key of the trail's hash chain (keep it outside the database): with "
        "it, someone who can write the database cannot recompute the chain.",
    )
    trail_anchor: Path | None = Field(
        default=None,
        description="The file holding the trail's latest hash, outside the database, so "
        "a truncated tail is detected (default: VOICEOPS_HOME/trail/anchor.json).",
    )
    actor: str = Field(
        default="",
        description="Who the trail records as acting (default: VOICEOPS_USER, else the OS user).",
    )

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse file of the embedded default."""
        return self.home / "warehouse" / "voiceops.duckdb"

    @property
    def tracking_uri(self) -> str:
        """The MLflow store: ``MLFLOW_TRACKING_URI`` or the embedded SQLite database."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"

    @property
    def artifact_root(self) -> str:
        return self.mlflow_artifact_root or (self.home / "mlflow" / "artifacts").as_uri()

    @property
    def vectors_path(self) -> Path:
        """The embedded vector index (Qdrant local mode) when no ``qdrant_url`` is set."""
        return self.home / "vectors"

    @property
    def events_location(self) -> str:
        """The experiment event store: ``VOICEOPS_EVENTS_URL`` or the embedded SQLite file."""
        return self.events_url or str(self.home / "experiments" / "events.sqlite3")

    @property
    def access_location(self) -> str:
        """The API key store: ``VOICEOPS_ACCESS_URL`` or the embedded SQLite database."""
        return self.access_url or f"sqlite:///{self.home / 'access' / 'keys.sqlite3'}"

    @property
    def subject_keys_location(self) -> str:
        """The subject key store: ``VOICEOPS_SUBJECT_KEYS_URL`` or the embedded SQLite file."""
        return self.subject_keys_url or f"sqlite:///{self.home / 'keys' / 'subjects.sqlite3'}"

    @property
    def trail_location(self) -> str:
        """The trail store: ``VOICEOPS_TRAIL_URL`` or the embedded SQLite database."""
        return self.trail_url or f"sqlite:///{self.home / 'trail' / 'trail.sqlite3'}"

    @property
    def trail_anchor_path(self) -> Path:
        return self.trail_anchor or self.home / "trail" / "anchor.json"

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"

    @property
    def sources_root(self) -> Path:
        return self.sources_dir or self.home / "sources"

    @property
    def airbyte_server_mode(self) -> bool:
        return bool(self.airbyte_rest_api_base_url)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for logs and metadata)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


@contextlib.contextmanager
def scoped_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set only inside the block (for a library that starts a
    subprocess from ``os.environ``), so secrets do not leak into every later process."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
