"""The command line (the *program*): Click commands built from the option table.
Errors and exit codes live in ``shapecalc.main``.

    shapecalc lstm --units 32 --input-dim 20
    shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3
"""

from __future__ import annotations

from functools import partial

import click

from shapecalc.cli.group import AliasedGroup, UserInterruptError, imported
from shapecalc.cli.layers import layer_command
from shapecalc.cli.output import OutputClosedError, OutputError, piped_width
from shapecalc.options import LAYERS

__all__ = ["OutputClosedError", "OutputError", "UserInterruptError", "cli", "piped_width"]


@click.group(
    cls=AliasedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, param, value: _print_version(ctx) if value else None,
    help="Show the version and exit.",
)
def cli() -> None:
    """Know thy shapes: every tensor inside LSTM, GRU, RNN and ConvLSTM layers.

    Derives the shape of the input, kernels, gates, states and output of a
    recurrent layer from its config, in the Keras 3, PyTorch or ONNX convention,
    without importing any of them. Sizes may be numbers or names (W, H - 2).

    \b
    Examples:
      shapecalc lstm --units 32 --input-dim 20
      shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3
      shapecalc convlstm --filters 8 --kernel 3 --input W H 3 --format json
      shapecalc lstm --framework torch --hidden-size 32 --input-size 20 --num-layers 2
      shapecalc port lstm --from keras --to torch --units 32 --input-dim 20
    """


def _print_version(ctx: click.Context) -> None:
    from importlib.metadata import version  # only for --version

    click.echo(f"shapecalc {version('shapecalc')}")
    ctx.exit()


assert isinstance(cli, AliasedGroup)
for _name, _layer in LAYERS.items():
    cli.add_lazy_command(_name, partial(layer_command, _layer))
cli.add_lazy_command("batch", imported("shapecalc.cli.batch", "batch"))
cli.add_lazy_command("model", imported("shapecalc.cli.model", "model_command"))
cli.add_lazy_command("layers", imported("shapecalc.cli.catalog", "layers_command"))
cli.add_lazy_command("examples", imported("shapecalc.cli.catalog", "examples_command"))
cli.add_lazy_command("weights", imported("shapecalc.cli.weights", "weights_command"))
cli.add_lazy_command("port", imported("shapecalc.cli.port", "port_command"))
