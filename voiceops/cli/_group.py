"""Command groups that import a sub-command's module only when that sub-command runs.

Every ``voiceops`` invocation pays for the imports of the code it loads, and the areas differ
widely (the lake needs SQLite; the demo Dagster, dbt and TensorFlow). A :class:`LazyGroup`
lists its sub-commands from a table of :class:`LazyCommand` (module, attribute, one-line
help) and imports a module when its command is resolved. The root group prints its own
``--help`` with Click's plain formatter, from the table, so ``voiceops --help`` imports no
sub-command module and not Rich.

This module imports Typer only: it is on the path of every command (but the plain
``voiceops lake commit``, which runs without Typer: see :mod:`voiceops.cli`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
from typer import _click
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from voiceops.cli import is_expected_failure

try:  # Typer's parameter coercion (since 0.2x); without it, Typer's own coercion runs
    from typer._coercion import RuntimeParam, build_runtime_param
except ImportError:  # pragma: no cover - another Typer
    RuntimeParam = None  # type: ignore[assignment,misc]


#: A listed one-line help is cut (with "...") only beyond this many characters; the help
#: formatter wraps it to the terminal's width.
LISTED_HELP_MAX = 200


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives and the one-line help its parent lists without importing it.

    ``attr`` names a ``typer.Typer`` (a command group) or a command function.
    """

    module: str
    attr: str
    help: str


class LazyGroup(TyperGroup):
    """A Typer group whose sub-commands in :attr:`lazy` are imported on first use.

    Subclasses set :attr:`lazy` (name -> :class:`LazyCommand`, in listing order); they are
    listed after the group's own commands. A loaded sub-command is built exactly as
    ``Typer.add_typer`` / ``Typer.command`` would have built it.
    """

    lazy: ClassVar[dict[str, LazyCommand]] = {}
    #: Passed to the sub-commands it builds, as Typer passes its app's setting down.
    pretty_exceptions_short: ClassVar[bool] = True

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        params = super().get_params(ctx)
        for param in params:
            use_plain_coercion(param)
        return params

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.lazy:
            command = self.commands[cmd_name] = self._load(cmd_name)
        return command

    def _load(self, name: str) -> _click.Command:
        spec = self.lazy[name]
        target = getattr(importlib.import_module(spec.module), spec.attr)
        if isinstance(target, typer.Typer):
            command: _click.Command = get_group_from_info(
                TyperInfo(target, name=name),
                pretty_exceptions_short=self.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
                suggest_commands=self.suggest_commands,
            )
        else:
            command = get_command_from_info(
                CommandInfo(name=name, callback=target),
                pretty_exceptions_short=self.pretty_exceptions_short,
                rich_markup_mode=self.rich_markup_mode,
            )
        prepare_params(command)
        return command

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        """Typer's resolution; a mistyped name is matched against every sub-command, loaded
        or not ("No such command 'lak'. Did you mean 'lake'?")."""
        try:
            return self._click_resolve_command(ctx, args)
        except _click.exceptions.UsageError as error:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if self.suggest_commands and matches:
                suggestions = ", ".join(repr(match) for match in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise

    def listed_help(self, name: str) -> str:
        """The one-line help of sub-command ``name``, without importing it if not loaded."""
        command = self.commands.get(name)
        if command is not None:
            return command.get_short_help_str(LISTED_HELP_MAX)
        return _click.utils.make_default_short_help(self.lazy[name].help, LISTED_HELP_MAX)

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if names:
            with formatter.section("Commands"):
                formatter.write_dl([(name, self.listed_help(name)) for name in names])


class RootGroup(LazyGroup):
    """The ``voiceops`` group: plain help, and expected failures as one ``error:`` line.

    An expected failure (:func:`~voiceops.cli.is_expected_failure`: any
    :class:`~core.errors.VoiceOpsError`, an ``OSError`` or a ``UnicodeError``) ends as
    ``error: <reason>`` on stderr and exit code 1.
    """

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        # Click's plain formatter: Typer's Rich panels would import Rich for every --help.
        _click.Command.format_help(self, ctx, formatter)

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            _click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise  # ``voiceops lake fs cat ... | head``: Typer exits quietly
        except Exception as error:
            if not is_expected_failure(error):
                raise
            from voiceops.cli._output import report_error

            report_error(error)
            raise typer.Exit(1) from None


# ---- parameters -----------------------------------------------------------------------------
# Typer coerces every parameter value through a pydantic TypeAdapter (built even for an option
# left out, such as ``--help``), and importing pydantic costs a lake command more than its work.
# The command line already gives a ``str`` parameter the string the adapter would return, a
# ``list[str]`` one a tuple of them, and a flag a bool: those values are taken as they are.
# Any other value (bytes, a string for a bool from an environment variable) or parameter type
# (numbers, paths, choices, parsers) goes through Typer's own coercion, errors included.

#: The parameter types coerced without pydantic.
PLAIN_TYPES = (str, list[str], bool)

if RuntimeParam is not None:

    @dataclass(frozen=True)
    class PlainParam(RuntimeParam):
        """Coercion of a ``str``, ``list[str]`` or ``bool`` parameter without pydantic."""

        def _coerce_value(self, value: Any, param: Any, ctx: _click.Context) -> Any:
            if self.annotation is str and type(value) is str:
                return value
            if self.annotation is bool and type(value) is bool:
                return value
            if (
                self.annotation == list[str]
                and isinstance(value, list | tuple)
                and all(type(item) is str for item in value)
            ):
                return list(value)
            typer_coercion = build_runtime_param(param.type_descriptor)
            return typer_coercion._coerce_value(value, param=param, ctx=ctx)


def use_plain_coercion(param: _click.Parameter) -> bool:
    """Give a Typer parameter of a :data:`PLAIN_TYPES` type (no parser, no choices, not a
    file) :class:`PlainParam`; True if it now has it."""
    descriptor = getattr(param, "type_descriptor", None)
    if RuntimeParam is None or descriptor is None:
        return False
    current = getattr(param, "_runtime_param", 0)
    if current is not None:
        return isinstance(current, PlainParam)
    info = descriptor.parameter_info
    if descriptor.annotation not in PLAIN_TYPES or info.parser is not None:
        return False
    if descriptor.file_annotation is not None or descriptor.choices is not None:
        return False
    param._runtime_param = PlainParam(  # type: ignore[attr-defined]
        parameter_info=info, annotation=descriptor.annotation
    )
    return True


def prepare_params(command: _click.Command) -> None:
    """:func:`use_plain_coercion` on the parameters of ``command`` and of every sub-command
    it holds, ``--help`` included (made now, as Click would make it on first use)."""
    help_option = command.get_help_option(_click.Context(command))
    for param in [*command.params, *([help_option] if help_option else [])]:
        use_plain_coercion(param)
    for sub in getattr(command, "commands", {}).values():
        prepare_params(sub)
