"""``shapecalc port LAYER --from F --to T <the layer's options>``: how to move a recurrent layer's
weights between Keras 3, PyTorch and ONNX, tensor by tensor.

The layer's options are the layer commands' own, generated from the option table; the source
framework's (``--units`` for Keras, ``--hidden-size`` and ``--num-layers`` for PyTorch,
``--direction`` for ONNX) apply, as with ``shapecalc lstm --framework F``. The first argument
is a layer kind; anything else goes to :func:`port_file`, the whole-file path's hook.

>>> [p.name for p in port_command.params][:3]
['what', 'source', 'to']
"""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from shapecalc.cli.layers import LayerCommand, _usage_error, table_option
from shapecalc.cli.output import output_width, write_output
from shapecalc.cli.params import Choice, ChoiceText
from shapecalc.cli.target import output_params
from shapecalc.errors import ShapecalcError
from shapecalc.options import FRAMEWORKS, LAYERS, Option, layer_options

#: The layer kinds that port (ConvLSTM is Keras only).
PORT_KINDS = ("lstm", "gru", "rnn")
PORT_FORMATS = ("table", "json", "python")
_HELP = """How to move a recurrent layer's weights between Keras 3, PyTorch and ONNX.

LAYER is lstm, gru or rnn; give the source framework's options for it (as with shapecalc LAYER
--framework FROM). For each tensor the target builds, shapecalc says which slices of which
source tensors fill it: transposed, reordered by gate, added (PyTorch's two biases into
Keras' one) or zero. A port the target cannot compute exactly is refused, naming the option.

A weights FILE instead of LAYER (anything 'shapecalc weights' reads) converts its recurrent
layers and writes -o OUT: a safetensors state_dict (--to torch), a Keras .weights.h5 and its
model's JSON beside it (--to keras), or an ONNX model (--to onnx). See docs/porting-files.md.

\b
Examples:
  shapecalc port lstm --from keras --to torch --units 32 --input-dim 20
  shapecalc port gru --from torch --to keras --hidden-size 32 --input-size 20 --num-layers 2
  shapecalc port gru --from keras --to onnx --units 8 --input-dim 4 --no-reset-after
  shapecalc port rnn --from torch --to keras --hidden-size 8 --input-size 4 --format python
  shapecalc port tagger.pt --to onnx -o tagger.onnx
  shapecalc port exported.onnx --to keras -o exported.weights.h5 --format json
"""


def _layer_options() -> list[Option]:
    """The options of lstm, gru and rnn under any framework, in table order, once each."""
    seen: dict[str, Option] = {}
    for kind in PORT_KINDS:
        for spec in layer_options(LAYERS[kind]):
            if spec.cli and spec.config and spec.key not in seen:
                seen[spec.key] = spec
    return list(seen.values())


def _framework_option(name: str, flag: str, help_text: str, *, required: bool = True) -> click.Option:
    option = click.Option([name, flag], type=ChoiceText(FRAMEWORKS), metavar="[" + "|".join(FRAMEWORKS) + "]",
                          required=required, help=help_text)  # fmt: skip
    option.section = "Layer"  # type: ignore[attr-defined]
    return option


def _format_option() -> click.Option:
    help_text = "table, json, or a NumPy function to paste (python).  [default: table]"
    option = click.Option(["fmt", "--format"], type=Choice(PORT_FORMATS), default="table", help=help_text)
    option.section = "Output"  # type: ignore[attr-defined]
    return option


def port_file(ctx: click.Context, path: str, source: str | None, to: str, fmt: str,
              options: dict[str, Any]) -> None:  # fmt: skip
    """The whole-file path, ``shapecalc port FILE --to T -o OUT`` (:mod:`shapecalc.cli.port_file`)."""
    from shapecalc.cli.port_file import port_file as convert  # the readers and writers load only here

    convert(ctx, path, source, to, fmt, options)


def _run(what: str, source: str, to: str, fmt: str, **options: Any) -> None:
    ctx = click.get_current_context()
    given = {
        key: value
        for key, value in options.items()
        if ctx.get_parameter_source(key) not in (ParameterSource.DEFAULT, None)
    }
    if what not in PORT_KINDS:
        port_file(ctx, what, source, to, fmt, given)
        return
    if source is None:  # a weights file says its framework; a LAYER needs --from
        raise click.UsageError("Missing option '--from'.", ctx=ctx)
    from shapecalc.api import request  # the engine loads only when the command runs
    from shapecalc.port.recipe import port_recipe
    from shapecalc.render.port import render_port

    try:
        config = request(what, {**given, "framework": source}).config
        text = render_port(port_recipe(config, to), fmt, width=output_width())
    except ShapecalcError as error:
        if error.option == "framework":  # the layer command's --framework is --from here
            error = ShapecalcError(error.message, option="from", code=error.code)
        raise _usage_error(ctx, error) from None
    write_output(text, fmt)


def _port_command() -> click.Command:
    lstm = LAYERS["lstm"]
    params: list[click.Parameter] = [click.Argument(["what"], metavar="LAYER")]
    params += [
        _framework_option("source", "--from", "LAYER's framework (a FILE says its own).", required=False),
        _framework_option("to", "--to", "The framework they go to."),
    ]
    params += [table_option(spec, lstm) for spec in _layer_options()]
    params += [_format_option(), *output_params()]
    return LayerCommand("port", params=params, callback=_run, help=_HELP,
                        context_settings={"max_content_width": 100})  # fmt: skip


port_command = _port_command()
