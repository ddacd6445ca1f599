"""The ``shapecalc`` group: commands by name or alias, a did-you-mean for unknown ones,
Ctrl-C turned into one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any

import click

from shapecalc.cli.output import OutputClosedError
from shapecalc.cli.params import QuickHelp
from shapecalc.errors import shown
from shapecalc.options import LAYER_ALIASES

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


def imported(module: str, name: str) -> Callable[[], click.Command]:
    """A factory for :meth:`AliasedGroup.add_lazy_command`: ``module``'s command ``name``,
    imported when the command is asked for (a layer command's run never loads it)."""
    return lambda: getattr(import_module(module), name)


class UserInterruptError(Exception):
    """Ctrl-C inside a command; ``shapecalc.main`` ends the run with one line and exit 130."""


@contextmanager
def _program_ending() -> Iterator[None]:
    """Ctrl-C and a closed pipe as shapecalc's own exceptions: Click would print a blank line
    for the first and end the run with exit 1 for the second."""
    try:
        yield
    except KeyboardInterrupt:
        raise UserInterruptError from None
    except BrokenPipeError:
        raise OutputClosedError from None


class AliasedGroup(QuickHelp, click.Group):
    """A group that also answers to aliases (``convlstm2d`` for ``convlstm``), and builds each
    layer command only when it is asked for: a run builds the one it runs (start-up speed)."""

    aliases = LAYER_ALIASES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.factories: dict[str, Callable[[], click.Command]] = {}
        self.order: list[str] = []

    def add_lazy_command(self, name: str, factory: Callable[[], click.Command]) -> None:
        """Register ``name``, built by ``factory`` the first time it is looked up."""
        self.factories[name] = factory
        self.order.append(name)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        super().add_command(cmd, name)
        self.order.append(name or cmd.name or "")

    def all_commands(self) -> dict[str, click.Command]:
        """Every command, built, in listing order."""
        ctx = click.Context(self)
        return {name: command for name in self.list_commands(ctx) if (command := self.get_command(ctx, name))}

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _program_ending():  # --help and --version print while the context is made
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _program_ending():
            return super().invoke(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = self.aliases.get(cmd_name, cmd_name)
        factory = self.factories.pop(name, None)
        if factory is not None:
            self.commands[name] = factory()
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.order)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands, each alias listed right after the command it names."""
        rows = []
        commands = self.all_commands()
        limit = formatter.width - 6 - max(len(name) for name in [*commands, *self.aliases])
        for name, command in commands.items():
            rows.append((name, command.get_short_help_str(limit=limit)))
            rows += [(alias, f"Same as {name}.") for alias, target in self.aliases.items() if target == name]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Commands as usual; an alias only once the prefix leaves nothing else (``convlstm2``)."""
        items = super().shell_complete(ctx, incomplete)
        if not items and incomplete:
            from click.shell_completion import CompletionItem

            items = [CompletionItem(alias) for alias in self.aliases if alias.startswith(incomplete)]
        return items

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        unknown = name and not name.startswith("-") and self.get_command(ctx, name) is None
        if unknown and not ctx.resilient_parsing:
            import difflib  # only for a mistyped command

            known = [*self.list_commands(ctx), *self.aliases]
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f"Did you mean {' or '.join(map(repr, close))}?" if close else "Layers and commands:"
            listed = "" if close else " " + ", ".join(self.list_commands(ctx)) + "."
            ctx.fail(f"No such command {shown(name)}. {hint}{listed}")
        return super().resolve_command(ctx, args)
