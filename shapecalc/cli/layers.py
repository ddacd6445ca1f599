"""The layer commands (``lstm``, ``gru``, ``rnn``, ``convlstm1d``, ``convlstm``, ``convlstm3d``),
generated in one loop from the option table.

The command line only gathers text: every value goes to
:func:`shapecalc.api.request` as typed, so a mistake gets the reason it gets
in batch mode and in model files. An error names the flag the user typed.

>>> from shapecalc.options import LAYERS
>>> [p.opts for p in layer_command(LAYERS["convlstm"]).params if p.name == "kernel_size"]
[['--kernel-size', '--kernel']]
"""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from shapecalc.cli.output import output_width, wants_color, write_output
from shapecalc.cli.params import (
    Choice,
    ChoiceText,
    Command,
    CountText,
    LengthsText,
    SizeText,
    TableOption,
    ValuesText,
    gather_values,
    typed_flag,
)
from shapecalc.cli.target import output_params
from shapecalc.errors import ShapecalcError
from shapecalc.options import (
    CHOICE,
    COUNT,
    COUNTS,
    FLAG,
    FORMATS,
    LENGTHS,
    SECTIONS,
    SHAPE,
    SIZE,
    SIZES,
    SORT_KEYS,
    LayerKind,
    Option,
    layer_options,
)

#: What each command says of itself, and an example that runs as printed.
_ABOUT = {
    "lstm": ("LSTM: Keras LSTM, PyTorch nn.LSTM or ONNX LSTM.", "shapecalc lstm --units 32 --input-dim 20"),
    "gru": (
        "GRU: Keras GRU, PyTorch nn.GRU or ONNX GRU.",
        "shapecalc gru --units 32 --input-dim 20 --no-reset-after",
    ),
    "rnn": (
        "Simple RNN: Keras SimpleRNN, PyTorch nn.RNN or ONNX RNN.",
        "shapecalc rnn --units 32 --input-dim 20",
    ),
    "convlstm1d": ("", "shapecalc convlstm1d --filters 8 --kernel 3 --input 100 3"),
    "convlstm": ("", "shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3"),
    "convlstm3d": ("", "shapecalc convlstm3d --filters 4 --kernel 3 --input 16 32 32 1"),
}
#: A frame's axes in ``channels_last`` order, per ConvLSTM rank.
_FRAME_AXES = {1: "L C", 2: "W H C", 3: "D H W C"}


class LayerCommand(Command):
    """A layer command: values gathered per option, help in the option table's sections."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, gather_values(self, ctx, args))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {name: [] for name in SECTIONS}
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):  # port's LAYER: the usage line and the text say it
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                sections[getattr(param, "section", "Output")].append(record)
        for name, rows in sections.items():
            if rows:
                with formatter.section(f"{name} options"):
                    formatter.write_dl(rows)


def _default_text(spec: Option) -> str:
    if spec.default is None or spec.default is False:
        return ""
    if spec.default is True:
        return f"  [default: {spec.flags[0]}]"
    return f"  [default: {spec.default}]"


def _metavar(spec: Option, layer: LayerKind) -> str:
    if spec.kind == SHAPE:
        return _FRAME_AXES[layer.rank]
    if spec.kind in (SIZES, COUNTS) and layer.rank > 1:
        return f"{spec.metavar} [{' '.join([spec.metavar] * (layer.rank - 1))}]"
    return spec.metavar


def table_option(spec: Option, layer: LayerKind) -> click.Option:
    """The Click option for ``spec`` on ``layer``'s command."""
    help_text = spec.help + _default_text(spec)
    if spec.kind == FLAG:
        declarations = list(spec.flags)
        if spec.default is True or spec.negation:  # an off switch: --no-bias, --no-linear-before-reset
            off = "--" + (spec.negation or f"no_{spec.key}").replace("_", "-")
            declarations = [f"{declarations[0]}/{off}"]
        return TableOption(spec, [spec.key, *declarations], is_flag=True, default=None, help=help_text)
    kinds: dict[str, click.ParamType[Any]] = {SIZE: SizeText(), COUNT: CountText(), LENGTHS: LengthsText()}
    if spec.kind == CHOICE:
        choices = layer.frameworks if spec.key == "framework" else spec.choices
        kind: click.ParamType[Any] = ChoiceText(choices)
        metavar = spec.metavar or "[" + "|".join(choices) + "]"  # NAME for Keras' 32 activations
    elif spec.kind in (SIZES, SHAPE, COUNTS):
        counts = (layer.rank + 1,) if spec.kind == SHAPE else tuple(sorted({1, layer.rank}))
        kind, metavar = ValuesText(counts), _metavar(spec, layer)
    else:
        kind, metavar = kinds[spec.kind], spec.metavar
    return TableOption(spec, [spec.key, *spec.flags], type=kind, metavar=metavar, help=help_text)


def _format_option() -> click.Option:
    option = click.Option(
        ["fmt", "--format"],
        type=Choice(FORMATS),
        default="table",
        help="Output format.  [default: table]",
    )
    option.section = "Output"  # type: ignore[attr-defined]
    return option


def _sort_option() -> click.Option:
    option = click.Option(
        ["sort", "--sort"],
        type=ChoiceText(SORT_KEYS),
        metavar="[" + "|".join(SORT_KEYS) + "]",
        help="Order a sweep's rows by this count.",
    )
    option.section = "Output"  # type: ignore[attr-defined]
    return option


def layer_command(layer: LayerKind) -> click.Command:
    """The command for ``layer``: one option per table entry that applies to it."""
    summary, example = _ABOUT[layer.name]
    if layer.rank:
        axes = _FRAME_AXES[layer.rank]
        summary = (
            f"Keras ConvLSTM{layer.rank}D: convolutional LSTM over {layer.rank}-D frames.\n\n"
            f"--input-shape (or --input) takes one frame: {axes} for channels_last, "
            "channels first for channels_first."
        )
    params: list[click.Parameter] = [table_option(spec, layer) for spec in layer_options(layer) if spec.cli]
    params += [_format_option(), _sort_option(), *output_params()]

    def run(fmt: str, sort: str | None, **options: Any) -> None:
        emit(layer, fmt, options, sort)

    return LayerCommand(
        layer.name,
        params=params,
        callback=run,
        help=f"{summary}\n\n\b\nExample:\n  {example}",
        context_settings={"max_content_width": 100},
    )


def emit(layer: LayerKind, fmt: str, options: dict[str, Any], sort: str | None = None) -> None:
    """Build, derive and print: the one path every layer command takes (a sweep when a size is
    a list or a range)."""
    ctx = click.get_current_context()
    given = {
        key: value
        for key, value in options.items()
        if ctx.get_parameter_source(key) not in (ParameterSource.DEFAULT, None)
    }
    # A list of lengths is one value, not a sweep of several.
    if any(_swept(value) for key, value in given.items() if key != "lengths"):
        _emit_sweep(ctx, layer, fmt, given, sort)
        return
    if sort is not None:
        raise click.BadParameter("orders the rows of a sweep: give a size as a list or a range", ctx=ctx,
                                 param_hint="'--sort'")  # fmt: skip
    from shapecalc.api import request  # the engine loads only when a command runs
    from shapecalc.rules import derive

    try:
        asked = request(layer.name, given)
        # The HTML page always holds the equations.
        result = derive(asked.config, dtype=asked.dtype, explain=asked.explain or fmt == "html")
    except ShapecalcError as error:
        raise _usage_error(ctx, error) from None
    from shapecalc.render import render

    color = wants_color(fmt)
    write_output(render(result, fmt, color=color, width=output_width()), fmt, color=color)


def _swept(value: Any) -> bool:
    items = value if isinstance(value, tuple) else (value,)
    return any(isinstance(item, str) and ("," in item or ":" in item) for item in items)


def _emit_sweep(
    ctx: click.Context, layer: LayerKind, fmt: str, given: dict[str, Any], sort: str | None
) -> None:
    from shapecalc.render.sweep import SWEEP_FORMATS, render_sweep  # only a sweep needs them
    from shapecalc.sweep import sort_rows, sweep

    if fmt not in SWEEP_FORMATS:
        raise click.BadParameter(
            f"a sweep is a table: use one of {', '.join(SWEEP_FORMATS)}, got {fmt!r}",
            ctx=ctx,
            param_hint="'--format'",
        )
    try:
        result = sweep(layer.name, given)
        if sort is not None:
            result = sort_rows(result, sort)
    except ShapecalcError as error:
        raise _usage_error(ctx, error) from None
    write_output(render_sweep(result, fmt), fmt)


def _usage_error(ctx: click.Context, error: ShapecalcError) -> click.UsageError:
    """``error`` as Click reports it, naming the flag the user typed (and the sweep's combination)."""
    from shapecalc.api import REQUIRED

    flag = typed_flag(ctx, error.option) if error.option else None
    if error.message == REQUIRED and flag:
        return click.UsageError(f"Missing option '{flag}'.", ctx=ctx)
    message = f"{error.where}: {error.message}" if error.where else error.message
    return click.BadParameter(message, ctx=ctx, param_hint=f"'{flag}'" if flag else None)
