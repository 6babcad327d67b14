"""Run a declarative (low-code) manifest in-process with PyAirbyte, incremental state included.

PyAirbyte's ``DeclarativeExecutor`` builds the CDK's ``ConcurrentDeclarativeSource`` without
the ``--state`` and ``--catalog`` it is run with; the concurrent source only takes its state in
the constructor, so every read starts from ``start_date``. :class:`StatefulDeclarativeExecutor`
reads both files from the CLI args and passes them to the constructor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from airbyte import Source
from airbyte._executors.declarative import DeclarativeExecutor
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    ConcurrentDeclarativeSource,
)


class StatefulDeclarativeExecutor(DeclarativeExecutor):
    """A ``DeclarativeExecutor`` that hands the incoming state and catalog to the CDK source."""

    def execute(
        self,
        args: list[str],
        *,
        stdin: IO[str] | Any | None = None,
        suppress_stderr: bool = False,
    ) -> Iterator[str]:
        _ = stdin, suppress_stderr
        parsed = AirbyteEntrypoint.parse_args(self.map_cli_args(args))
        config = self._config_from_args(args)
        catalog = None
        state: list[Any] = []
        if getattr(parsed, "catalog", None):
            catalog = ConcurrentDeclarativeSource.read_catalog(parsed.catalog)
        if getattr(parsed, "state", None):
            state = ConcurrentDeclarativeSource.read_state(parsed.state)
        source = ConcurrentDeclarativeSource(
            catalog=catalog,
            config={**self._config_dict, **config},
            state=state,
            source_config=self._manifest_dict,
        )
        yield from AirbyteEntrypoint(source).run(parsed)


def declarative_source(name: str, manifest: Path, config: dict[str, Any]) -> Source:
    """A PyAirbyte ``Source`` running ``manifest`` in-process with state passed through."""
    executor = StatefulDeclarativeExecutor(name=name, manifest=manifest)
    return Source(name=name, config=config, executor=executor)
