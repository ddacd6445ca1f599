"""Click parameters of the layer commands: they gather text and leave every check to the engine.

A multi-value option takes one value or one per axis (``--kernel 3`` or
``--kernel 3 3``); :func:`gather_values` collects the words after its flag into
one token that :class:`ValuesText` splits again.

>>> ValuesText((1, 2)).convert("3" + SEPARATOR + "3", None, None)
('3', '3')
"""

from __future__ import annotations

from typing import Any

import click

from shapecalc.errors import shown
from shapecalc.options import Option, find

#: Joins the words of one multi-value option (a character no expression can hold).
SEPARATOR = "\x1f"
#: Where a command keeps the flag the user typed for each option, to name it in errors.
_TYPED = "shapecalc.typed_flags"


class SizeText(click.ParamType):  # type: ignore[type-arg]
    """A size as typed: a positive integer or an expression (``W``, ``H - 2``); checked by the engine."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value


class CountText(SizeText):
    """A positive integer as typed (strides, layer counts)."""

    name = "count"


class LengthsText(SizeText):
    """Sequence lengths as typed (``7,3,1``, ``100x16,50x16``): one word, never a sweep."""

    name = "lengths"


class ValuesText(click.ParamType):  # type: ignore[type-arg]
    """Several sizes or counts, gathered into one token by :func:`gather_values`."""

    name = "values"

    def __init__(self, counts: tuple[int, ...]) -> None:
        self.counts = counts

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return tuple(value.split(SEPARATOR)) if isinstance(value, str) else value


class ChoiceText(click.ParamType):  # type: ignore[type-arg]
    """One of ``choices``, completed by the shell; a wrong one is refused by the engine."""

    name = "choice"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(choice) for choice in self.choices if choice.startswith(incomplete)]


class Choice(click.Choice):  # type: ignore[type-arg]
    """Click's choice, echoing a wrong value cut short (Click would echo all of it)."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return f"{shown(value)} is not one of {', '.join(map(repr, self.choices))}."


class QuickHelp(click.Command):
    """A command whose ``-h``/``--help`` is built without a gettext lookup.

    Click asks gettext for the option's text each run, and gettext imports
    ``locale`` to expand the language names (about 1 ms of start-up); Click
    ships no translations, so the text is always the English one.
    """

    HELP = "Show this message and exit."
    _quick_help: click.Option | None = None

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if self._quick_help is None:  # one object per command: Click orders eager callbacks by identity
            self._quick_help = click.Option(
                names, is_flag=True, expose_value=False, is_eager=True, help=self.HELP, callback=_show_help
            )
        return self._quick_help


class Command(QuickHelp):
    """A command that echoes stray arguments cut short (Click would echo all of them), and builds
    its help option without gettext."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True  # refused below, with the words cut short
        rest = super().parse_args(ctx, args)
        if ctx.args and not ctx.resilient_parsing:
            words = "argument" if len(ctx.args) == 1 else "arguments"
            raise click.UsageError(f"Got unexpected extra {words} {shown(' '.join(ctx.args))}.", ctx=ctx)
        return rest


class TableOption(click.Option):
    """A Click option made from an option-table entry; ``section`` groups it in ``--help``."""

    def __init__(self, spec: Option, declarations: list[str], **kwargs: Any) -> None:
        super().__init__(declarations, **kwargs)
        self.spec = spec
        self.section = spec.section


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


def _counts_text(counts: tuple[int, ...]) -> str:
    text = " or ".join(str(count) for count in counts)
    return f"{text} value" + ("s" if counts[-1] > 1 else "")


def gather_values(command: click.Command, ctx: click.Context, args: list[str]) -> list[str]:
    """``args`` with each multi-value option's words joined into one token.

    Refuses an option given twice (under any of its flags) and a single-value
    option followed by more than one word, saying how many it takes.
    """
    params = {name: param for param in command.params for name in (*param.opts, *param.secondary_opts)}
    typed: dict[str, str] = ctx.meta.setdefault(_TYPED, {})
    out: list[str] = []
    position = 0
    while position < len(args):
        token = args[position]
        position += 1
        param = params.get(token)
        if token == "--":
            out += args[position - 1 :]
            break
        if param is None or not isinstance(param, click.Option):
            out.append(token)
            continue
        name = param.name or token
        if name in typed and not ctx.resilient_parsing:
            earlier = typed[name]
            reason = "is given twice" if earlier == token else f"give {earlier} or {token}, not both"
            raise click.BadParameter(reason, ctx=ctx, param_hint=f"'{token}'")
        typed[name] = token
        out.append(token)
        if param.is_flag or param.count:
            continue
        values: list[str] = []
        while position < len(args) and args[position] not in params and not args[position].startswith("--"):
            values.append(args[position])
            position += 1
        counts = param.type.counts if isinstance(param.type, ValuesText) else (1,)
        too_many = not isinstance(param.type, ValuesText) and len(values) > 1
        if (not values or too_many) and not ctx.resilient_parsing:
            got = f"got {len(values)}" + (f" ({shown(' '.join(values))})" if values else "")
            raise click.BadParameter(f"needs {_counts_text(counts)}, {got}", ctx=ctx, param_hint=f"'{token}'")
        if isinstance(param.type, ValuesText):
            out.append(SEPARATOR.join(values))
        else:
            out += values
    return out


def typed_flag(ctx: click.Context, key: str) -> str:
    """The flag the user typed for the option ``key`` names (``--kernel``), else its own flag."""
    option = find(key)
    typed: dict[str, str] = ctx.meta.get(_TYPED, {})
    if option is not None and option.key in typed:
        return typed[option.key]
    return "--" + key.replace("_", "-")
