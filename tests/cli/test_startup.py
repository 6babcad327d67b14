"""Start-up of ``voiceops``: sub-commands load lazily, help lists them all, the lake commands
import neither the heavy stacks nor pydantic, and their light settings read the environment
exactly as ``Settings`` does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer import _click
from typer.main import get_command
from typer.testing import CliRunner

from core.settings import Settings
from versioning.lake.local import LocalLake
from voiceops.cli import VoiceOpsGroup, app
from voiceops.cli._group import LazyGroup, PlainParam, use_plain_coercion
from voiceops.cli._lakeargs import configured_lake, local_lake_environment, parse_plain_commit
from voiceops.cli.lake import LakeGroup

HEAVY = ("tensorflow", "keras", "dagster", "mlflow", "dbt", "duckdb", "pyarrow", "warehouse")
#: What ``voiceops --help`` must not import (besides :data:`HEAVY`).
NOT_FOR_HELP = ("pydantic", "pydantic_settings", "rich", "versioning", "voiceops.cli.lake")


def run_cli(args: list[str], env: dict[str, str], report: str | None = None) -> dict:
    """``voiceops ARGS`` through the real entry point in a fresh interpreter; its exit code,
    output and (with ``report``) the top-level packages and ``voiceops.cli`` modules loaded."""
    code = (
        "import json, sys\n"
        "from voiceops.cli import main\n"
        f"sys.argv = ['voiceops', *{args!r}]\n"
        "try:\n    main()\n    status = 0\n"
        "except SystemExit as exit:\n    status = exit.code or 0\n"
        "names = {m.split('.')[0] for m in sys.modules} | set(sys.modules)\n"
        f"open({report!r}, 'w').write(json.dumps(sorted(names))) if {report!r} else None\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    modules = json.loads(Path(report).read_text()) if report else []
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr, "modules": modules}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.lower().startswith("voiceops_")}
    return environ | {"VOICEOPS_HOME": str(tmp_path / "home"), "VOICEOPS_LAKE_FSYNC": "false"}


def test_help_lists_every_sub_command_with_its_help(env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli(["--help"], env, str(tmp_path / "modules.json"))
    assert result["code"] == 0, result["err"]
    listed = " ".join(result["out"].split())  # the help wraps long lines
    root = get_command(app)
    ctx = _click.Context(root)
    for name in root.list_commands(ctx):
        first_line = root.get_command(ctx, name).get_short_help_str(200)
        assert f"{name} {first_line}" in listed
    assert set(VoiceOpsGroup.lazy) == {
        "predict", "explain", "lake", "simulate", "warehouse", "demo", "models", "serve",
        "turn", "experiments", "tune", "monitor", "privacy", "trail", "access",
    }  # fmt: skip


def test_help_imports_no_sub_command_and_no_heavy_stack(
    env: dict[str, str], tmp_path: Path
) -> None:
    modules = run_cli(["--help"], env, str(tmp_path / "modules.json"))["modules"]
    assert [m for m in (*HEAVY, *NOT_FOR_HELP) if m in modules] == []


def test_no_arguments_prints_the_help_and_exits_2(env: dict[str, str]) -> None:
    result = run_cli([], env)
    assert result["code"] == 2
    assert "Usage: voiceops" in result["out"] and "lake" in result["out"]


def test_lake_commit_imports_only_the_lake(env: dict[str, str], tmp_path: Path) -> None:
    lake = LocalLake(Path(env["VOICEOPS_HOME"]) / "lake", fsync=False)
    lake.create_repository("calls")
    lake.upload("calls", "main", "raw/a.json", b"{}")
    args = ["lake", "commit", "lakefs://calls/main", "-m", "one", "--meta", "k=v"]
    result = run_cli(args, env, str(tmp_path / "modules.json"))
    assert result["code"] == 0, result["err"]
    head = lake.log("calls", "main", 1)[0]
    assert result["out"] == f"Committed {head.id} on branch main\n"
    assert (head.message, head.metadata) == ("one", {"k": "v"})
    loaded = set(result["modules"])
    assert [m for m in HEAVY if m in loaded] == []
    assert [m for m in ("pydantic", "pydantic_settings", "rich", "typer") if m in loaded] == []
    assert "voiceops.cli.lake_fs" not in loaded and "voiceops.cli.demo" not in loaded


def test_lake_usage_error_is_typer_s(env: dict[str, str]) -> None:
    """A bad value still goes through Typer's own coercion and messages."""
    result = run_cli(["lake", "log", "lakefs://calls/main", "--amount", "zero"], env)
    assert result["code"] == 2
    assert "Invalid value" in result["err"] and "--amount" in result["err"]


@pytest.mark.parametrize("group", [VoiceOpsGroup, LakeGroup])
def test_lazy_table_matches_the_loaded_commands(group: type[LazyGroup]) -> None:
    """The one-line help listed without importing a sub-command is that command's own."""
    instance = group(name="g")
    for name, spec in group.lazy.items():
        command = instance.get_command(_click.Context(instance), name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(200) == _click.utils.make_default_short_help(
            spec.help, 200
        )


def test_sub_command_help_is_unchanged_by_lazy_loading() -> None:
    """``voiceops lake --help`` (Rich) lists the verbs and every lazily loaded group."""
    result = CliRunner().invoke(app, ["lake", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in ("commit", "log", "merge", "fsck", *LakeGroup.lazy):
        assert f" {name} " in result.output


def test_plain_params_coerce_like_typer() -> None:
    """str, list[str] and bool values come out as Typer's pydantic coercion returns them;
    other values fall through to it."""
    from typer._coercion import build_runtime_param

    root = get_command(app)
    ctx = _click.Context(root)
    lake = root.get_command(ctx, "lake")
    commit = lake.get_command(ctx, "commit")
    params = {p.name: p for p in commit.params}
    assert all(isinstance(p._runtime_param, PlainParam) for p in params.values())
    for name, value in (
        ("uri", "lakefs://r/main"),
        ("meta", ("a=b", "c=d")),
        ("meta", ()),
        ("allow_empty", True),
        ("allow_empty", "yes"),
        ("message", b"bytes"),
    ):
        param = params[name]
        typer_own = build_runtime_param(param.type_descriptor).coerce(value, param, ctx)
        assert param._runtime_param.coerce(value, param, ctx) == typer_own
    amount = next(
        p
        for p in root.get_command(ctx, "lake").get_command(ctx, "log").params
        if p.name == "amount"
    )
    assert use_plain_coercion(amount) is False  # an int with a minimum: Typer's coercion


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"VOICEOPS_HOME": "/srv/voiceops"},
        {"VOICEOPS_HOME": "relative/home", "VOICEOPS_LAKE_FSYNC": "false"},
        {"VOICEOPS_LAKE_FSYNC": "No", "VOICEOPS_LAKE_LOCK_TIMEOUT_S": "2.5"},
        {"VOICEOPS_LAKE_FSYNC": "1", "VOICEOPS_LAKE_LOCK_TIMEOUT_S": "5"},
        {"VOICEOPS_LAKE_BACKEND": "local", "VOICEOPS_LAKE_FSYNC": "OFF"},
        {"VOICEOPS_PG_HOST": "db", "DBT_TARGET": "postgres"},
    ],
)
def test_light_lake_settings_equal_settings(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.lower().startswith("voiceops_"):
            monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    light = local_lake_environment()
    settings = Settings()
    assert light is not None
    assert (light.home, light.lake_root) == (settings.home, settings.lake_root)
    assert (light.fsync, light.lock_timeout_s) == (
        settings.lake_fsync,
        settings.lake_lock_timeout_s,
    )
    lake = configured_lake()
    assert isinstance(lake, LocalLake)
    assert (lake.root, lake.fsync, lake.lock_timeout_s) == (
        settings.lake_root,
        settings.lake_fsync,
        settings.lake_lock_timeout_s,
    )


@pytest.mark.parametrize(
    "environ",
    [
        {"VOICEOPS_LAKE_BACKEND": "lakefs"},
        {"VOICEOPS_LAKE_BACKEND": "s3"},  # invalid: Settings reports it
        {"voiceops_home": "/lower/case"},
        {"VOICEOPS_HOME": ""},
        {"VOICEOPS_LAKE_FSYNC": "maybe"},
        {"VOICEOPS_LAKE_FSYNC": " true"},
        {"VOICEOPS_LAKE_LOCK_TIMEOUT_S": "1e3"},
        {"VOICEOPS_LAKE_LOCK_TIMEOUT_S": "-1"},
    ],
)
def test_unusual_lake_settings_are_left_to_settings(environ: dict[str, str]) -> None:
    base = {k: v for k, v in os.environ.items() if not k.lower().startswith("voiceops_")}
    assert local_lake_environment(base | environ) is None


def test_lake_commands_keep_settings_errors(env: dict[str, str]) -> None:
    """An invalid backend is still refused by ``Settings`` (a validation error, no commit)."""
    result = run_cli(["lake", "log", "lakefs://calls/main"], env | {"VOICEOPS_LAKE_BACKEND": "s3"})
    assert result["code"] != 0
    assert "lake_backend" in result["err"]


@pytest.mark.parametrize(
    ("args", "suggestion"), [(["lak"], "'lake'"), (["lake", "repoo"], "'repo'")]
)
def test_a_mistyped_command_suggests_one_not_loaded_yet(args: list[str], suggestion: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"Did you mean {suggestion}?" in result.stderr


# ---- voiceops lake commit without Typer --------------------------------------------------------
def run_through_typer(args: list[str], env: dict[str, str]) -> dict:
    """``voiceops ARGS`` through the Typer app only (never the fast path of ``main()``)."""
    code = f"import sys\nfrom voiceops.cli import app\nsys.argv = ['voiceops', *{args!r}]\napp()\n"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    return {"code": done.returncode, "out": done.stdout, "err": done.stderr}


def _staged_lake(home: Path) -> LocalLake:
    lake = LocalLake(home / "lake", fsync=False)
    lake.create_repository("calls")
    lake.create_branch("calls", "звонки-1", "main")
    lake.add_branch_protection("calls", "prod")
    lake.create_branch("calls", "prod", "main")
    for branch in ("main", "звонки-1"):
        lake.upload("calls", branch, "raw/a.json", b"{}")
    return lake


@pytest.mark.parametrize(
    "args",
    [
        ["lakefs://calls/main", "-m", "one", "--meta", "k=v", "--meta", "ключ=значение"],
        ["--message", "first option first", "lakefs://calls/main", "--no-allow-empty"],
        ["lakefs://calls/звонки-1", "-m", "non-ASCII branch"],
        ["lakefs://calls/main", "-m", "empty", "--allow-empty", "--meta", "a=b=c"],
        ["lakefs://calls/main", "-m", ""],  # an empty message: the lake refuses it
        ["lakefs://calls/ghost", "-m", "x"],
        ["lakefs://nowhere/main", "-m", "x"],
        ["lakefs://calls", "-m", "x"],
        ["lakefs://calls/main/raw/a.json", "-m", "x"],
        ["not-a-uri", "-m", "x"],
        ["lakefs://calls/main", "-m", "x", "--meta", "novalue"],
        ["lakefs://calls/main", "-m", "x", "--meta", "k=1", "--meta", "k=2"],
        ["lakefs://calls/prod", "-m", "protected"],
    ],
)
def test_plain_lake_commit_without_typer_behaves_as_the_typer_command(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    """Same exit code, stdout (up to the commit id), stderr and commit as through Typer."""
    argv = ["lake", "commit", *args]
    assert parse_plain_commit(args) is not None
    results = []
    for name in ("fast", "typer"):
        home = tmp_path / name
        lake = _staged_lake(home)
        run_env = env | {"VOICEOPS_HOME": str(home)}
        if name == "fast":
            result = run_cli(argv, run_env, str(tmp_path / "modules.json"))
            typer_loaded = "typer" in result.pop("modules")
            assert typer_loaded == (result["code"] != 0)  # only to report an error
        else:
            result = run_through_typer(argv, run_env)
        result["out"] = re.sub(r"\b[0-9a-f]{64}\b", "<id>", result["out"])
        heads = [(c.message, c.metadata) for c in lake.log("calls", "main", 1)]
        results.append((result, heads))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["lakefs://calls/main"],  # no message: Typer's usage error
        ["-m", "x"],
        ["lakefs://calls/main", "-m", "x", "--json"],
        ["lakefs://calls/main", "--help"],
        ["lakefs://calls/main", "-m"],
        ["lakefs://calls/main", "-m", "-x"],  # Click takes "-x" as the message: Typer decides
        ["lakefs://calls/main", "-mx"],
        ["lakefs://calls/main", "--message=x"],
        ["lakefs://calls/main", "--meta=k=v", "-m", "x"],
        ["lakefs://calls/main", "-m", "x", "-m", "y"],
        ["lakefs://calls/main", "-m", "x", "--allow-empty", "--allow-empty"],
        ["lakefs://calls/main", "lakefs://calls/other", "-m", "x"],
        ["--", "lakefs://calls/main", "-m", "x"],
        ["lakefs://calls/main", "-m", "x", "--unknown"],
    ],
)
def test_other_lake_commit_forms_are_left_to_typer(args: list[str]) -> None:
    assert parse_plain_commit(args) is None


def test_the_fast_path_steps_aside_for_shell_completion(
    env: dict[str, str], tmp_path: Path
) -> None:
    _staged_lake(Path(env["VOICEOPS_HOME"]))
    argv = ["lake", "commit", "lakefs://calls/main", "-m", "x"]
    env = env | {"_VOICEOPS_COMPLETE": "bash_source"}
    result = run_cli(argv, env, str(tmp_path / "modules.json"))
    assert "typer" in result["modules"]
