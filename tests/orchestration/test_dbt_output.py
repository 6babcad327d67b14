"""How much of dbt's output reaches the terminal: all of it by default, none in the CLI demo."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from core.settings import Settings


class _EchoingInvocation:
    """Stands in for ``DbtCliInvocation``: its ``stream()`` echoes dbt's log like dagster-dbt."""

    def stream(self) -> Iterator[str]:
        for event in ("materialization", "check result"):
            sys.stdout.write(f"1 of 2 OK {event}\n")
            yield event


def test_events_without_echo_keeps_every_event_and_prints_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.defs.warehouse.dbt import _events_without_echo

    events = _events_without_echo(_EchoingInvocation())  # type: ignore[arg-type]
    assert events == ["materialization", "check result"]
    assert capsys.readouterr().out == ""
    print("stdout is back")
    assert capsys.readouterr().out == "stdout is back\n"


@pytest.mark.parametrize("echo", [True, False])
def test_audit_run_config_sets_the_dbt_echo(settings: Settings, echo: bool) -> None:
    from dagster import validate_run_config

    from orchestration.definitions import defs
    from orchestration.runs import audit_run_config

    job = defs.resolve_job_def("audit_publish_job")
    resolved = validate_run_config(job, audit_run_config(echo))
    assert resolved["ops"]["voiceops_dbt"]["config"] == {"echo_dbt_log": echo}
    default = validate_run_config(job, {})
    assert default["ops"]["voiceops_dbt"]["config"] == {"echo_dbt_log": True}  # UI: dbt's log
