"""``voiceops warehouse``: audit a lake branch, publish it, the lakeFS pre-merge hook."""

from __future__ import annotations

from typing import Annotated

import typer

from voiceops.cli._lakeargs import current_settings
from voiceops.cli._output import CliError, say

warehouse_app = typer.Typer(help="The warehouse: audit (load + dbt build), publish, lakeFS hook.")


@warehouse_app.command("audit")
def audit_cmd(
    ref: Annotated[str, typer.Argument(help="Branch, tag or commit of the lake repository.")],
) -> None:
    """Load REF into its audit schema and run dbt build (models + every test)."""
    from versioning.lake import open_lake
    from warehouse.audit import run_audit

    settings = current_settings()
    audit = run_audit(open_lake(settings), settings.lake_repository, ref, settings)
    say(f"audit of {ref} @ {audit.commit_id[:12]} in schema {audit.schema}: {audit.summary()}")
    if not audit.ok:
        raise typer.Exit(1)


@warehouse_app.command("publish")
def publish_cmd(
    branch: Annotated[str, typer.Argument(help="The ingest-* branch to publish into main.")],
) -> None:
    """Publish BRANCH: audit what would land on main (the branch, or its combination with a
    main that moved on) unless a current audit of it is recorded, and merge exactly that
    commit if every check passed."""
    from core.trail import open_trail
    from warehouse.audit import run_audit
    from warehouse.audits import PublishRefused, audit_log
    from warehouse.guard import open_guarded_lake
    from warehouse.manifest import current_manifest_hash
    from warehouse.publish import publish, publish_candidate

    settings = current_settings()
    lake, repository = open_guarded_lake(settings), settings.lake_repository
    audits = audit_log(settings)
    manifest = current_manifest_hash(settings)
    trail = open_trail(settings)
    try:
        candidate = publish_candidate(lake, repository, branch, trail=trail)
        audit = audits.get(candidate.commit_id)
        if audit is None or audit.manifest_hash != manifest:
            audit = run_audit(lake, repository, candidate.commit_id, settings, name=candidate.ref)
        merge = publish(
            lake,
            repository,
            candidate.commit_id,
            audits,
            branch=branch,
            manifest_hash=manifest,
            trail=trail,
        )
    except PublishRefused as refused:
        raise CliError(str(refused)) from None
    combined = " (combined with main)" if candidate.combined else ""
    say(f"published {branch}{combined} into main @ {merge.commit_id[:12]}: {audit.summary()}")


@warehouse_app.command("serve-hook")
def serve_hook_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8766,
) -> None:
    """Serve the lakeFS pre-merge webhook (POST /lakefs/pre-merge) until interrupted.

    It only verifies a merge against the audit log (no audit runs in it) and answers only
    requests carrying VOICEOPS_HOOK_SECRET in the X-VoiceOps-Hook-Secret header or, with
    VOICEOPS_AUTH=required, a bearer key or token whose role holds lake:pre-merge.
    """
    import threading

    from core.access import Gatekeeper
    from versioning.lake import open_lake
    from warehouse.hook import PATH, HookConfigError, hook_verifier, make_server

    settings = current_settings()
    verifier = hook_verifier(settings, open_lake(settings))
    gatekeeper = Gatekeeper.from_settings(settings)
    try:
        server = make_server(
            verifier, settings.hook_secret.get_secret_value(), host, port, gatekeeper
        )
    except HookConfigError as error:
        raise CliError(str(error)) from None
    # A dbt parse, if one is due, now rather than while lakeFS waits on the first merge.
    threading.Thread(target=verifier.manifest_hash, name="manifest-hash", daemon=True).start()
    say(f"lakeFS pre-merge hook on http://{host}:{server.server_address[1]}{PATH}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@warehouse_app.command("hook-action")
def hook_action_cmd(
    url: Annotated[
        str, typer.Option(help="The hook's URL as the lakeFS server reaches it.")
    ] = "http://voiceops-hook:8766/lakefs/pre-merge",
) -> None:
    """Print the lakeFS action file (_lakefs_actions/pre-merge-audit.yaml) for a hook URL."""
    import sys

    from warehouse.hook import action_yaml

    try:
        text = action_yaml(url)
    except ValueError as error:
        raise CliError(str(error)) from None
    sys.stdout.write(text)
