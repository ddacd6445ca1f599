"""``shapecalc model FILE``: shapes through a whole model, like Keras' ``summary()``.

Only Click is imported here; the loaders, pydantic, YAML and the renderers
load when the command runs, so the layer commands start as fast as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from shapecalc.cli.output import output_width, wants_color, write_output
from shapecalc.cli.params import Choice, Command
from shapecalc.cli.target import reads, with_output
from shapecalc.errors import ShapecalcError, shown
from shapecalc.options import FORMATS, OPTIONS

if TYPE_CHECKING:
    from shapecalc.dims import Dim


def _bindings(values: tuple[str, ...]) -> dict[str, Dim]:
    """``("batch=32", "T=W*2")`` -> ``{"batch": 32, "T": Expr("W*2")}``."""
    from shapecalc.dims import check_name, parse_dim

    out: dict[str, Dim] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{shown(value)}: expected NAME=VALUE", param_hint="'--set'")
        try:
            check_name(name.strip())
            out[name.strip()] = parse_dim(text)
        except ShapecalcError as error:
            raise click.BadParameter(f"{shown(value)}: {error.message}", param_hint="'--set'") from None
    return out


@click.command("model", cls=Command)
@with_output
@click.argument("file", metavar="FILE", required=False, type=click.Path())  # the shell completes file names
@click.option(
    "--example", metavar="NAME", help="Run a model file shipped with shapecalc (see shapecalc examples)."
)
@click.option(
    "--format", "fmt", type=Choice(FORMATS), default="table", show_default=True, help="Output format."
)
@click.option("--detail", is_flag=True, help="Expand every recurrent layer into its tensors.")
@click.option(
    "--skip-unknown",
    is_flag=True,
    help="List the layers of a class shapecalc does not know as unknown (and what they feed), name "
    "every such class with its reason, and go on instead of failing.",
)
@click.option(
    "--dtype",
    type=Choice(OPTIONS["dtype"].choices),
    default="float32",
    show_default=True,
    help="Weight memory item size.",
)
@click.option(
    "--set",
    "bindings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Give a size in the input shapes a value (repeatable), e.g. --set batch=32.",
)
def model_command(
    file: str | None,
    example: str | None,
    fmt: str,
    detail: bool,
    skip_unknown: bool,
    dtype: str,
    bindings: tuple[str, ...],
) -> None:
    """Shapes through a whole model: each layer's output shape and parameters, then totals.

    FILE is a shapecalc model file (.yaml, .yml, .toml or .json: an input
    shape and a list of layers with the layer commands' options), the JSON
    Keras' model.to_json() writes, or a .keras archive (only its config is
    read; weights are never loaded, Keras is never imported).

    \b
    Examples:
      shapecalc model --example stacked_lstm
      shapecalc model stacked_lstm.yaml
      shapecalc model seq2seq_states.keras --format json
      shapecalc model video_next_frame.keras --detail --set batch=8
    """
    from shapecalc.model.engine import propagate  # the loaders and renderers load only when it runs
    from shapecalc.model.reader import read_model
    from shapecalc.render import render

    if (file is None) == (example is None):
        raise click.UsageError("give a model FILE or --example NAME (see shapecalc examples), not both")
    if example is not None:
        from shapecalc.model.examples import example_path

        file = str(example_path(example))
    assert file is not None
    reads(file)
    values = _bindings(bindings)
    result = propagate(read_model(file), skip_unknown=skip_unknown, dtype=dtype, bindings=values)
    color = wants_color(fmt)
    text = render(result, fmt, detail=detail, color=color, width=output_width())
    write_output(text, fmt, color=color)
