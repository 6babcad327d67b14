"""Argument helpers of the lake commands: the configured lake, ``lakefs://`` URIs, ``--meta``.

The lake commands start fast: the embedded lake's four settings are read straight from the
environment (:func:`local_lake_environment`) instead of building :class:`core.settings.Settings`
(pydantic-settings costs more than a whole small commit), and the publish gate's merge check
imports the warehouse only when a merge into a protected branch asks for it.

This module imports neither Typer nor Rich (:class:`~voiceops.cli._output.CliError` is
imported when an error is raised): ``voiceops lake commit`` in its plain forms runs from here
without Typer (:func:`commit_fast_path`), the one command whose whole run is shorter than
importing Typer.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from versioning.lake import Lake, LakeURI, MergeRequest, parse_uri
from voiceops.cli import is_expected_failure

if TYPE_CHECKING:
    from core.settings import Settings
    from versioning.lake import Commit
    from voiceops.cli._output import CliError


def cli_error(message: str) -> CliError:
    """A :class:`~voiceops.cli._output.CliError` (its module, which imports Typer, loads now)."""
    from voiceops.cli._output import CliError

    return CliError(message)


def current_settings() -> Settings:
    """Settings read from the environment now (not the process-wide cached copy)."""
    from core.settings import Settings

    return Settings()


#: The environment variables the embedded lake reads (``Settings`` fields ``home``,
#: ``lake_backend``, ``lake_fsync``, ``lake_lock_timeout_s``).
HOME, BACKEND, FSYNC, LOCK_TIMEOUT = (
    "VOICEOPS_HOME",
    "VOICEOPS_LAKE_BACKEND",
    "VOICEOPS_LAKE_FSYNC",
    "VOICEOPS_LAKE_LOCK_TIMEOUT_S",
)
_LAKE_VARIABLES = {name.lower(): name for name in (HOME, BACKEND, FSYNC, LOCK_TIMEOUT)}
#: The spellings of a boolean pydantic accepts (compared lower-cased).
_TRUE, _FALSE = {"1", "true", "t", "yes", "y", "on"}, {"0", "false", "f", "no", "n", "off"}
_PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?")
#: ``Settings.home``'s default.
DEFAULT_HOME = Path("~/.voiceops").expanduser()


@dataclass(frozen=True)
class LocalLakeEnvironment:
    """What the embedded lake needs from the settings."""

    home: Path
    fsync: bool
    lock_timeout_s: float

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"


def local_lake_environment(
    environ: Mapping[str, str] = os.environ,
) -> LocalLakeEnvironment | None:
    """The embedded lake's settings, read from ``environ`` the way ``Settings`` reads them.

    None when the backend is not the local one, or when a value is not in a plain form whose
    meaning is certain (a variable spelt in another case, an empty home, a boolean or a
    number in an unusual spelling): then ``Settings`` parses it (and reports what is wrong).
    """
    values: dict[str, str] = {}
    for key, value in environ.items():
        name = _LAKE_VARIABLES.get(key.lower())
        if name is not None:
            if key != name:
                return None
            values[name] = value
    if values.get(BACKEND, "local") != "local":
        return None
    home_text = values.get(HOME)
    fsync_text = values.get(FSYNC, "true").lower()
    timeout_text = values.get(LOCK_TIMEOUT, "60")
    if home_text == "" or fsync_text not in _TRUE | _FALSE:
        return None
    if not _PLAIN_NUMBER.fullmatch(timeout_text):
        return None
    home = DEFAULT_HOME if home_text is None else Path(home_text)
    return LocalLakeEnvironment(home, fsync_text in _TRUE, float(timeout_text))


def publish_check(request: MergeRequest) -> None:
    """The publish gate's rule (``warehouse.guard``) on a merge into a protected branch.

    The warehouse (DuckDB, PyArrow, dbt) is imported here, when such a merge is asked for.
    """
    from warehouse.audits import audit_log
    from warehouse.guard import audit_merge_check
    from warehouse.manifest import current_manifest_hash

    settings = current_settings()
    check = audit_merge_check(audit_log(settings), lambda: current_manifest_hash(settings))
    check(request)


def configured_lake() -> Lake:
    """The lake backend the environment selects (``VOICEOPS_LAKE_BACKEND``, ``VOICEOPS_HOME``),
    with the publish gate's check on merges into protected branches."""
    local = local_lake_environment()
    if local is None:
        from versioning.lake import open_lake

        return open_lake(current_settings(), [publish_check])
    from versioning.lake.local import LocalLake

    return LocalLake(
        local.lake_root,
        fsync=local.fsync,
        lock_timeout_s=local.lock_timeout_s,
        merge_checks=[publish_check],
    )


def repo_uri(text: str) -> str:
    """The repository of ``lakefs://REPO``."""
    uri = parse_uri(text)
    if uri.ref or uri.path:
        raise cli_error(f"{text}: expected a repository URI lakefs://REPO")
    return uri.repository


def ref_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF`` (a branch, tag or commit), no object path."""
    uri = parse_uri(text)
    uri.require_ref()
    if uri.path:
        raise cli_error(f"{text}: expected lakefs://REPO/REF without an object path")
    return uri


def ref_and_prefix_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF[/PREFIX]``."""
    uri = parse_uri(text, allow_prefix=True)
    uri.require_ref()
    return uri


def object_uri(text: str) -> LakeURI:
    """``lakefs://REPO/REF/PATH`` naming one object (no trailing '/')."""
    uri = parse_uri(text, allow_prefix=False)
    uri.require_ref()
    uri.require_path()
    return uri


def same_repository(first: LakeURI, second: LakeURI) -> str:
    if first.repository != second.repository:
        raise cli_error(
            f"{first} and {second} are in different repositories "
            f"({first.repository!r} and {second.repository!r})"
        )
    return first.repository


def parse_meta(items: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict; a malformed or repeated key is an error naming the item."""
    metadata: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise cli_error(f"invalid --meta {item!r}: expected KEY=VALUE")
        if key in metadata:
            raise cli_error(f"invalid --meta {item!r}: key {key!r} given twice")
        metadata[key] = value
    return metadata


# ---- voiceops lake commit --------------------------------------------------------------------
def commit_branch(
    uri: str, message: str, meta: list[str] | None, allow_empty: bool
) -> tuple[LakeURI, Commit]:
    """The work of ``voiceops lake commit``: the branch of ``uri`` and its new commit."""
    target = ref_uri(uri)
    metadata = parse_meta(meta)
    commit = configured_lake().commit(
        target.repository, target.require_ref(), message, metadata, allow_empty=allow_empty
    )
    return target, commit


def committed_line(target: LakeURI, commit: Commit) -> str:
    return f"Committed {commit.id} on branch {target.ref}"


#: The options of ``voiceops lake commit`` that take a value / are flags.
_COMMIT_VALUE_OPTIONS = ("-m", "--message", "--meta")
_COMMIT_FLAGS = ("--allow-empty", "--no-allow-empty")
#: A line ``say`` writes as it is (no Rich markup brackets, no ``:emoji:`` codes).
_PLAIN_LINE = re.compile(r"[^\[\]:]*")


def parse_plain_commit(args: list[str]) -> tuple[str, str, list[str], bool] | None:
    """URI, message, ``--meta`` items and ``--allow-empty`` of ``voiceops lake commit ARGS``
    when ARGS have the plain form Click reads only one way: one URI, ``-m``/``--message`` once,
    each option spelt in full with its value in the next argument (a value that does not start
    with '-'), ``--meta`` repeated at will, at most one of ``--[no-]allow-empty``. None for
    anything else (``--json``, ``--help``, ``--message=...``, ``--``, usage errors ...):
    Typer parses those."""
    uri: str | None = None
    message: str | None = None
    meta: list[str] = []
    allow_empty: bool | None = None
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg in _COMMIT_VALUE_OPTIONS:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
            if arg == "--meta":
                meta.append(value)
            elif message is None:
                message = value
            else:
                return None
        elif arg in _COMMIT_FLAGS and allow_empty is None:
            allow_empty = arg == "--allow-empty"
        elif arg.startswith("-") or uri is not None:
            return None
        else:
            uri = arg
    if uri is None or message is None:
        return None
    return uri, message, meta, bool(allow_empty)


def commit_fast_path(args: list[str]) -> bool:
    """Run ``voiceops lake commit ARGS`` without importing Typer, if ARGS are plain
    (:func:`parse_plain_commit`) and no shell completion is asked for; False if not (nothing
    was done: Typer runs the command).

    Output, errors and exit codes are those of the Typer command (``lake.commit_cmd``, whose
    work is the same :func:`commit_branch`) under the root group: the line on stdout, exit 0;
    an expected failure as one ``error:`` line, exit 1; a closed stdout exits 1 quietly;
    Ctrl-C exits 130; any other exception is a bug and ends in its traceback, as in Typer.
    """
    parsed = parse_plain_commit(args)
    if parsed is None or any(name.endswith("_COMPLETE") for name in os.environ):
        return False
    try:
        line = committed_line(*commit_branch(*parsed))
        if line.isprintable() and _PLAIN_LINE.fullmatch(line):
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        else:
            from voiceops.cli._output import say

            say(line)
    except BrokenPipeError:  # as Click: no complaint when the interpreter flushes at exit
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if not is_expected_failure(error):
            raise
        from voiceops.cli._output import report_error

        report_error(error)
        sys.exit(1)
    return True
