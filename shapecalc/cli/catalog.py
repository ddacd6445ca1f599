"""``shapecalc layers`` (the layer classes model files may name, from the registry itself) and
``shapecalc examples`` (the model files shipped with the package)."""

from __future__ import annotations

import click

from shapecalc.cli.output import write_output
from shapecalc.cli.target import with_output
from shapecalc.render.catalog import CATALOG_FORMATS

#: The one --format of the listing commands.
_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(CATALOG_FORMATS),
    default="table",
    help="Output format.  [default: table]",
)


@click.command("layers")
@with_output
@_format_option
def layers_command(fmt: str) -> None:
    """List the layer classes a model file may name, with their other names.

    \b
    Example:
      shapecalc layers --format json
    """
    from shapecalc.model.layers.registry import known_classes  # the registry loads pydantic: only here
    from shapecalc.render.catalog import render_catalog

    write_output(render_catalog(known_classes(), fmt), fmt)


@click.command("examples")
@with_output
@_format_option
def examples_command(fmt: str) -> None:
    """List the example model files shipped with shapecalc; run one with model --example NAME.

    \b
    Example:
      shapecalc examples
    """
    from shapecalc.model.examples import examples  # reads the package's files: only here
    from shapecalc.render.catalog import render_examples

    rows = [(example.name, example.format, example.about) for example in examples()]
    write_output(render_examples(rows, fmt), fmt)
