"""The dbt project as Dagster assets: every model and seed, every test as an asset check.

The project is parsed the first time the definitions are built
(``orchestration.resources.dbt.prepared_dbt_project``), not when a module is imported.
"""

import contextlib
import io
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Config,
    Failure,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from pydantic import Field

from core.settings import scoped_environ
from orchestration.defs.warehouse.assets import WAREHOUSE_GROUP, WAREHOUSE_KEY_ROOT, _audit_target
from orchestration.resources.lake import LakeResource
from warehouse.audits import Audit, audit_log
from warehouse.dbt_build import (
    EXPERIMENT_MODELS,
    checks_from_run_results,
    dbt_env,
    dbt_vars,
    manifest_hash,
)
from warehouse.manifest import project_fingerprint, remember_manifest_hash

#: dbt node types keyed ``warehouse/<layer>/<name>`` (sources keep the keys their YAML gives).
WAREHOUSE_NODE_TYPES = ("model", "seed", "snapshot")


class DbtBuildConfig(Config):
    """Run config of ``voiceops_dbt``: how much of dbt's output reaches the terminal."""

    echo_dbt_log: bool = Field(
        default=True,
        description="Echo dbt's log on stdout as dbt runs (every node, as `dbt build` prints "
        "it). False (the CLI demo): nothing on stdout; results still become materializations, "
        "asset checks and the audit, and dbt's full log is in the run's target dir (dbt.log).",
    )


def _events_without_echo(invocation: DbtCliInvocation) -> list[Any]:
    """Every Dagster event of ``invocation.stream()``, with dagster-dbt's echo of dbt's log
    (it writes each line to ``sys.stdout``, with no option to turn it off) swallowed.

    Collected before they are yielded: stdout is only redirected while dbt runs.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        return list(invocation.stream())


class VoiceOpsDbtTranslator(DagsterDbtTranslator):
    """dbt models in the ``warehouse`` group; dbt tests as non-blocking asset checks.

    The gate is ``lake/published``: it runs after every test and refuses the merge naming the
    failed checks (a blocking check would skip it without a word about the publish).
    """

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return WAREHOUSE_GROUP

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        key = super().get_asset_key(dbt_resource_props)
        if dbt_resource_props["resource_type"] in WAREHOUSE_NODE_TYPES:
            return AssetKey([WAREHOUSE_KEY_ROOT, *key.path])
        return key

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        return None if spec is None else spec._replace(blocking=False)


def build_dbt_assets(project: DbtProject) -> AssetsDefinition:
    """``voiceops_dbt``: the project's models, seeds and tests, built in the audit schema
    (all but the experiment models: ``orchestration/defs/experiments``)."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        exclude=EXPERIMENT_MODELS,
        dagster_dbt_translator=VoiceOpsDbtTranslator(),
    )
    def voiceops_dbt(
        context: AssetExecutionContext,
        config: DbtBuildConfig,
        dbt: DbtCliResource,
        lake: LakeResource,
    ):
        """``dbt build`` in the audit schema: every model, every test (as asset checks)."""
        settings = lake.settings()
        target = _audit_target(context)
        # dbt's process reads its profile (and the Postgres password) from these; dagster-dbt
        # copies os.environ when it starts dbt, so they are set only while it does
        with scoped_environ(dbt_env(settings)):
            invocation = dbt.cli(
                ["build", "--vars", dbt_vars(target["schema"])],
                context=context,
                raise_on_error=False,
            )
        if config.echo_dbt_log:
            yield from invocation.stream()
        else:
            yield from _events_without_echo(invocation)
            context.log.info(f"dbt log: {invocation.target_path / 'dbt.log'}")
        if not (invocation.target_path / "run_results.json").is_file():  # dbt stopped early
            raise invocation.get_error() or Failure("dbt build wrote no run_results.json")
        audit = Audit(
            repository=lake.repository_name,
            ref=target.get("audited_ref", target["branch"]),
            commit_id=target["commit_id"],
            schema=target["schema"],
            checks=checks_from_run_results(invocation.get_artifact("run_results.json")),
            manifest_hash=manifest_hash(invocation.get_artifact("manifest.json")),
        )
        remember_manifest_hash(settings, project_fingerprint(), audit.manifest_hash)
        audit_log(settings).save(audit)
        context.log.info(f"audit of {audit.ref}: {audit.summary()}")

    return voiceops_dbt
