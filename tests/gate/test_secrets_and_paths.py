"""Bypass 11: object keys from a server escaping the download folder, and secrets leaking
into later processes, metadata or printed settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, redact_url, scoped_environ
from versioning.lake import ObjectStat
from voiceops.cli._output import CliError
from voiceops.cli._transfer import confined, download_tree


class _ServerListing:
    """A lake whose listing holds keys a malicious or broken server could send."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.downloaded: list[str] = []

    def list_objects(self, repository: str, ref: str, prefix: str = "") -> list[ObjectStat]:
        return [ObjectStat(key, "x", 1, 0.0) for key in self.keys]

    def download(self, repository: str, ref: str, path: str, destination: Any) -> Path:
        self.downloaded.append(path)
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        Path(destination).write_bytes(b"x")
        return Path(destination)


@pytest.mark.parametrize(
    "key", ["exports/../../evil.txt", "exports/../x", "exports//x", "exports/./x"]
)
def test_a_key_escaping_the_destination_downloads_nothing(tmp_path: Path, key: str) -> None:
    lake = _ServerListing(["exports/fine.txt", key])
    with pytest.raises(CliError, match="escapes"):
        download_tree(lake, "repo", "main", "exports/", tmp_path / "out")  # type: ignore[arg-type]
    assert lake.downloaded == []  # refused before the first byte is written
    assert not (tmp_path / "evil.txt").exists()


def test_confined_keeps_ordinary_keys_inside(tmp_path: Path) -> None:
    assert confined(tmp_path, "a/b.txt") == tmp_path / "a" / "b.txt"
    for bad in ("", "/etc/passwd", "../x", "a/../../x"):
        with pytest.raises(CliError):
            confined(tmp_path, bad)


def test_secrets_do_not_print_and_urls_are_redacted() -> None:
    settings = Settings(pg_password="pg-secret", hook_secret="hook-secret")
    assert "pg-secret" not in repr(settings) and "hook-secret" not in str(settings)
    assert settings.pg_password.get_secret_value() == "pg-secret"
    assert redact_url("postgresql://mlflow:s3cr3t@db:5432/mlflow") == (
        "postgresql://mlflow:***@db:5432/mlflow"
    )
    assert redact_url("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"


def test_the_password_reaches_dbts_process_only_while_it_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from warehouse.dbt_build import dbt_env

    monkeypatch.delenv("VOICEOPS_PG_PASSWORD", raising=False)
    env = dbt_env(Settings(pg_password="pg-secret"))
    with scoped_environ(env):
        assert os.environ["VOICEOPS_PG_PASSWORD"] == "pg-secret"
    assert "VOICEOPS_PG_PASSWORD" not in os.environ
