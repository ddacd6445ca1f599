"""The command line (the *program*): Click commands that build options into a
config, derive the result and print it. Errors and exit codes live in
``shapecalc.main``.

    shapecalc lstm --units 32 --input-dim 20
    shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import click
from click.core import ParameterSource

from shapecalc.batch import batch
from shapecalc.errors import SHOWN_LENGTH, ShapecalcError, shown
from shapecalc.model.command import model_command

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from shapecalc.dims import Dim

FORMATS = ("table", "json", "markdown", "svg", "html")
#: Element types --dtype accepts: the keys of shapecalc.costs.ITEMSIZES (a test keeps them equal;
#: importing shapecalc.costs here would load the engine before it is needed).
DTYPES = ("float32", "float16", "bfloat16", "float64")

#: Option names as the API spells them -> as the command line spells them.
_OPTION_SPELLING = {
    "kernel_size": "kernel",
    "input_shape": "input",
    "dilation_rate": "dilation",
    "use_bias": "no-bias",
    "layer": "layer",
}


def option_flag(name: str) -> str:
    """``input_dim`` -> ``--input-dim`` (the flag a user typed for an API option)."""
    return "--" + _OPTION_SPELLING.get(name, name).replace("_", "-")


class DimType(click.ParamType):  # type: ignore[type-arg]
    """A size: a positive integer or a symbolic expression (``W``, ``H - 2``)."""

    name = "dim"

    def __init__(self, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Dim:
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return]
        from shapecalc.dims import never_positive, parse_dim  # the engine loads only when a size is given

        try:
            dim = parse_dim(value)
        except ShapecalcError as error:
            echoed = shown(value)
            self.fail(error.message if echoed in error.message else f"{echoed}: {error.message}", param, ctx)
        if dim == 0 and self.allow_zero:
            return dim
        if never_positive(dim):
            self.fail(f"{shown(value)} is not a positive size", param, ctx)
        return dim


class StrideType(click.ParamType):  # type: ignore[type-arg]
    """A positive integer (strides divide, so they cannot be symbolic)."""

    name = "int"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1 or len(text) > 18:
            self.fail(f"{shown(value)} is not a positive integer", param, ctx)
        return int(text)


DIM = DimType()
STRIDE = StrideType()


class UserInterruptError(Exception):
    """Ctrl-C inside a command; ``shapecalc.main`` ends the run with one line and exit 130."""


class AliasedGroup(click.Group):
    """A group that also answers to aliases (``convlstm2d`` for ``convlstm``)."""

    aliases: ClassVar[dict[str, str]] = {"convlstm2d": "convlstm"}

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Click would turn it into Abort after printing a blank line on stderr.
            raise UserInterruptError from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

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
            import difflib

            known = [*self.commands, *self.aliases]
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = f"Did you mean {' or '.join(map(repr, close))}?" if close else "Layers and commands:"
            listed = "" if close else " " + ", ".join(self.commands) + "."
            ctx.fail(f"No such command {shown(name)}. {hint}{listed}")
        return super().resolve_command(ctx, args)


class LayerCommand(click.Command):
    """A layer command that says how many values an option needs when it gets too few or too many.

    Click would report ``--kernel 3 --input 1 2 3`` as "unexpected extra arguments (1 2 3)".
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            _check_value_counts(self, ctx, args)
        return super().parse_args(ctx, args)


def _check_value_counts(command: click.Command, ctx: click.Context, args: list[str]) -> None:
    flags = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    needs = {
        name: param.nargs
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag and param.nargs >= 1
        for name in param.opts
    }
    for position, token in enumerate(args):
        if token == "--":
            return
        if token not in needs:
            continue
        values: list[str] = []
        for value in args[position + 1 :]:
            if value in flags or value.startswith("--"):
                break
            values.append(value)
        if len(values) != needs[token]:
            wanted = f"{needs[token]} value" + ("s" if needs[token] > 1 else "")
            got = f"got {len(values)}" + (f" ({shown(' '.join(values))})" if values else "")
            raise click.BadParameter(f"needs {wanted}, {got}", ctx=ctx, param_hint=f"'{token}'")


def _emit(kind: str, framework: str, fmt: str, options: dict[str, Any]) -> None:
    """Build, derive and print: the one path every layer command takes."""
    explain, dtype = bool(options.pop("explain", False)), str(options.pop("dtype", "float32"))
    ctx = click.get_current_context()
    given = {
        key: value
        for key, value in options.items()
        if ctx.get_parameter_source(key) not in (ParameterSource.DEFAULT, None)
    }
    if "no_bias" in given:
        given["use_bias"] = not given.pop("no_bias")
    given["framework"] = framework
    from shapecalc.api import REQUIRED, build_config
    from shapecalc.rules import derive

    try:
        # The HTML page always holds the equations (issue 7).
        result = derive(build_config(kind, given), dtype=dtype, explain=explain or fmt == "html")
    except ShapecalcError as error:
        flag = option_flag(error.option) if error.option else None
        if error.message == REQUIRED and flag:
            raise click.UsageError(f"Missing option '{flag}'.", ctx=ctx) from None
        value = _given_text(ctx, error.option)
        detail = f"{value}: {error.message}" if value and value not in error.message else error.message
        raise click.BadParameter(detail, ctx=ctx, param_hint=f"'{flag}'" if flag else None) from None
    from shapecalc.render import render

    color = fmt == "table" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = None if sys.stdout.isatty() else piped_width()
    click.echo(render(result, fmt, color=color, width=width), nl=False, color=color)


def piped_width() -> int:
    """The width for piped output: ``$COLUMNS`` when it is a sane number, else 100."""
    text = os.environ.get("COLUMNS", "")
    if text.isascii() and text.isdigit() and 20 <= int(text) <= 1000:
        return int(text)
    return 100


def _given_text(ctx: click.Context, option: str | None) -> str:
    if not option:
        return ""
    name = {"kernel_size": "kernel", "input_shape": "input", "dilation_rate": "dilation"}.get(option, option)
    value = ctx.params.get(name)
    if value is None or ctx.get_parameter_source(name) == ParameterSource.DEFAULT:
        return ""
    if isinstance(value, bool):
        return ""  # a flag has no value worth echoing
    text = " ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
    return text if len(text) <= SHOWN_LENGTH else shown(text)


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--timesteps", type=DIM, help="Sequence length (default: the symbol timestep)."),
        click.option("--batch", type=DIM, help="Batch size (default: the symbol batch)."),
        click.option("--no-bias", is_flag=True, help="Build the layer without biases."),
        click.option(
            "--explain", is_flag=True, help="Also show the equations of one time step, every operand's shape."
        ),
        click.option(
            "--dtype",
            type=click.Choice(DTYPES),
            default="float32",
            show_default=True,
            help="Element type for the weight and activation bytes.",
        ),
        click.option(
            "--bidirectional",
            is_flag=True,
            help="Wrap in Bidirectional (Keras) / bidirectional=True (PyTorch).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="table",
            show_default=True,
            help="Output format.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _framework_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--framework",
        type=click.Choice(("keras", "torch")),
        default="keras",
        show_default=True,
        help=help_text,
    )


def _keras_sequence_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--return-sequences", is_flag=True, help="Return the output of every time step."),
        click.option("--return-state", is_flag=True, help="Also return the final states."),
        click.option(
            "--merge-mode",
            type=click.Choice(("concat", "sum", "ave", "mul", "none")),
            help="How Bidirectional merges the two directions (default concat).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(
    cls=AliasedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(package_name="shapecalc", message="%(prog)s %(version)s")
def cli() -> None:
    """Know thy shapes: every tensor inside LSTM, GRU, RNN and ConvLSTM layers.

    Derives the shape of the input, kernels, gates, states and output of a
    recurrent layer from its config, in the Keras 3 or PyTorch convention,
    without importing either. Sizes may be numbers or names (W, H - 2).

    \b
    Examples:
      shapecalc lstm --units 32 --input-dim 20
      shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3
      shapecalc convlstm --filters 8 --kernel 3 3 --input W H 3 --format json
      shapecalc lstm --framework torch --hidden-size 32 --input-size 20 --num-layers 2
    """


def _recurrent_command(kind: str, summary: str, example: str) -> None:
    def run(fmt: str, framework: str, **options: Any) -> None:
        _emit(kind, framework, fmt, options)

    command: Any = run

    command.__doc__ = f"{summary}\n\n\b\nExample:\n  {example}"
    decorators = [
        cli.command(kind, cls=LayerCommand),
        click.option("--units", type=DIM, help="Hidden size (Keras units). Alias: --hidden-size."),
        click.option("--hidden-size", type=DIM, help="PyTorch spelling of --units."),
        click.option("--input-dim", type=DIM, help="Features per time step. Alias: --input-size."),
        click.option("--input-size", type=DIM, help="PyTorch spelling of --input-dim."),
        _framework_option("Whose convention: Keras 3 layers or PyTorch modules."),
        _keras_sequence_options,
        _common_options,
    ]
    if kind == "gru":
        decorators.append(
            click.option(
                "--reset-after/--no-reset-after",
                default=True,
                show_default=True,
                help="Keras GRU reset_after (separate recurrent bias).",
            )
        )
    decorators += [
        click.option("--num-layers", type=STRIDE, help="PyTorch: stacked layers (default 1)."),
        click.option(
            "--proj-size",
            type=DimType(allow_zero=True),
            help="PyTorch LSTM: projection size (< hidden size; 0: none).",
        ),
        click.option(
            "--batch-first", is_flag=True, help="PyTorch: input and output are (batch, seq, feature)."
        ),
    ]
    for decorator in reversed(decorators[1:]):
        command = decorator(command)
    decorators[0](command)


def _conv_command(kind: str, rank: int, example: str) -> None:
    axes = {1: "L C", 2: "W H C", 3: "D H W C"}[rank]

    def run(fmt: str, framework: str, **options: Any) -> None:
        _emit(kind, framework, fmt, options)

    command: Any = run

    command.__doc__ = (
        f"Keras ConvLSTM{rank}D: convolutional LSTM over {rank}-D frames.\n\n"
        f"--input takes one frame ({axes} for channels_last; channels first for channels_first).\n\n"
        f"\b\nExample:\n  {example}"
    )
    decorators = [
        cli.command(kind, cls=LayerCommand),
        click.option("--filters", type=DIM, help="Number of output channels."),
        click.option("--kernel", type=DIM, nargs=rank, help=f"Kernel size ({rank} values)."),
        click.option("--input", type=DIM, nargs=rank + 1, help=f"One frame: {axes} (data-format order)."),
        click.option("--strides", type=STRIDE, nargs=rank, help="Input-convolution strides (default 1)."),
        click.option(
            "--padding", type=click.Choice(("valid", "same", "causal")), help="Padding (default valid)."
        ),
        click.option("--dilation", type=DIM, nargs=rank, help="Dilation rate (default 1)."),
        click.option(
            "--data-format",
            type=click.Choice(("channels_last", "channels_first")),
            help="Axis order of frames (default channels_last).",
        ),
        _framework_option("Only keras: PyTorch has no ConvLSTM."),
        _keras_sequence_options,
        _common_options,
    ]
    for decorator in reversed(decorators[1:]):
        command = decorator(command)
    decorators[0](command)


_recurrent_command("lstm", "LSTM: Keras LSTM or PyTorch nn.LSTM.", "shapecalc lstm --units 32 --input-dim 20")
_recurrent_command(
    "gru", "GRU: Keras GRU or PyTorch nn.GRU.", "shapecalc gru --units 32 --input-dim 20 --no-reset-after"
)
_recurrent_command(
    "rnn", "Simple RNN: Keras SimpleRNN or PyTorch nn.RNN.", "shapecalc rnn --units 32 --input-dim 20"
)
_conv_command("convlstm1d", 1, "shapecalc convlstm1d --filters 8 --kernel 3 --input 100 3")
_conv_command("convlstm", 2, "shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3")
_conv_command("convlstm3d", 3, "shapecalc convlstm3d --filters 4 --kernel 3 3 3 --input 16 32 32 1")
cli.add_command(batch)
cli.add_command(model_command)
