"""One-time setup of the lake connections on an Airbyte server (run before the code location
loads, since its assets come from the server's connections)::

    python -m ingestion.airbyte.lake_setup [--replace]

For each lake source (``crm``, ``call_exports``) it makes sure of:

* the S3 destination ``voiceops-lake-<source>`` (created, or PATCHed to the current
  settings), pointed at a branch that never exists until a run points it at its own;
* the connection ``voiceops-<source>`` from the server's source of the same name to that
  destination, with the streams of ``connections/<source>.yaml`` (created, or PATCHed).

The sources themselves stay the operator's (their configuration holds the server's view of
the CRM API and of the export files). A connection that already writes elsewhere cannot be
repointed (the public API does not PATCH a destination id): ``--replace`` deletes and
recreates it; its sync state is lost, and runs restore it from the lake anyway.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from core.settings import Settings
from ingestion.airbyte.lake_destination import (
    LAKE_SOURCES,
    UNSET_BRANCH,
    connection_settings,
    destination_name,
    s3_destination_configuration,
    server_connection_name,
)
from ingestion.airbyte.server_api import AirbyteServerApi


class LakeSetupError(RuntimeError):
    """The server lacks something setup cannot create (a source) or must not touch."""


@dataclass(frozen=True)
class LakeConnection:
    """What setup left on the server for one source."""

    source: str
    connection_id: str
    destination_id: str
    actions: tuple[str, ...]  # e.g. ("destination created", "connection patched")


def _named(items: list[dict], name: str) -> dict | None:
    return next((item for item in items if item.get("name") == name), None)


def ensure_destination(api: AirbyteServerApi, settings: Settings, source: str) -> tuple[str, str]:
    """``(destination id, action)`` of the lake destination of ``source``."""
    configuration = s3_destination_configuration(settings, settings.lake_repository, UNSET_BRANCH)
    name = destination_name(source)
    existing = _named(api.list_destinations(), name)
    if existing is None:
        created = api.create_destination(name, configuration)
        return str(created["destinationId"]), "destination created"
    api.patch_destination(str(existing["destinationId"]), configuration)
    return str(existing["destinationId"]), "destination patched"


def ensure_connection(
    api: AirbyteServerApi, source: str, destination_id: str, *, replace: bool
) -> tuple[str, list[str]]:
    """``(connection id, actions)`` of the connection of ``source`` to ``destination_id``."""
    name = server_connection_name(source)
    body = connection_settings(source)
    existing = _named(api.list_connections(), name)
    if existing is not None and str(existing["destinationId"]) == destination_id:
        api.patch_connection(str(existing["connectionId"]), body)
        return str(existing["connectionId"]), ["connection patched"]
    actions: list[str] = []
    if existing is not None:
        if not replace:
            raise LakeSetupError(
                f"connection {name!r} writes to destination {existing['destinationId']}, not "
                f"to the lake ({destination_id}); rerun with --replace to recreate it"
            )
        api.delete_connection(str(existing["connectionId"]))
        source_id = str(existing["sourceId"])
        actions.append("connection deleted (it wrote elsewhere)")
    else:
        found = _named(api.list_sources(), name)
        if found is None:
            raise LakeSetupError(f"no source named {name!r} on the Airbyte server: create it")
        source_id = str(found["sourceId"])
    created = api.create_connection(
        {"name": name, "sourceId": source_id, "destinationId": destination_id, **body}
    )
    actions.append("connection created")
    return str(created["connectionId"]), actions


def setup_lake_connections(
    api: AirbyteServerApi,
    settings: Settings,
    *,
    replace: bool = False,
    sources: tuple[str, ...] = LAKE_SOURCES,
) -> list[LakeConnection]:
    """Destinations and connections of ``sources``, created or brought up to date."""
    done = []
    for source in sources:
        destination_id, destination_action = ensure_destination(api, settings, source)
        connection_id, actions = ensure_connection(api, source, destination_id, replace=replace)
        done.append(
            LakeConnection(source, connection_id, destination_id, (destination_action, *actions))
        )
    return done


def main(argv: list[str] | None = None) -> None:
    from ingestion.airbyte.server import build_airbyte_workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--replace",
        action="store_true",
        help="delete and recreate a voiceops-* connection that writes to another destination",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    api = AirbyteServerApi(build_airbyte_workspace(settings).get_client())
    for result in setup_lake_connections(api, settings, replace=args.replace):
        print(
            f"{result.source}: connection {result.connection_id} -> destination "
            f"{result.destination_id} ({', '.join(result.actions)})"
        )


if __name__ == "__main__":
    main()
