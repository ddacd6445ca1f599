"""``shapecalc weights FILE``: every tensor of a weights file, and its recurrent layers rebuilt.

Only Click is imported here; the readers and the renderer load when the command runs.
"""

from __future__ import annotations

import click

from shapecalc.cli.output import output_width, wants_color, write_output
from shapecalc.cli.params import Choice, Command
from shapecalc.cli.target import reads, with_output

WEIGHTS_FORMATS = ("table", "json", "markdown")


class ProblemsFound(click.ClickException):
    """The file's tensors contradict their own config: the output is printed, then exit 1."""

    exit_code = 1


@click.command("weights", cls=Command)
@with_output
@click.argument("file", metavar="FILE", type=click.Path())  # the shell completes file names
@click.option(
    "--format", "fmt", type=Choice(WEIGHTS_FORMATS), default="table", show_default=True,
    help="Output format.",
)  # fmt: skip
@click.option("--layer", metavar="NAME", help="Show only this layer (its tensors and its rebuilt table).")
def weights_command(file: str, fmt: str, layer: str | None) -> None:
    """Every tensor of a weights file, and the recurrent layers it holds, rebuilt.

    FILE is a safetensors file, a torch.save file (.pt, .pth, .bin, .ckpt; a
    state_dict or a checkpoint holding one), a Keras .keras archive, a
    .weights.h5 or legacy .h5 file, or an ONNX model. The format is found by
    content. Only headers and pickles are read, never tensor data; pickles are
    read by a restricted unpickler that runs nothing. HDF5 needs
    'shapecalc[h5]', ONNX 'shapecalc[onnx]'.

    \b
    Examples:
      shapecalc weights tagger.safetensors
      shapecalc weights checkpoint_legacy.pt --layer lstm
      shapecalc weights tagger.keras --format json
    """
    from shapecalc.render.weights import render_weights  # the readers and renderer load only when it runs
    from shapecalc.weights.reader import read_weights

    reads(file)
    result = read_weights(file, layer=layer)
    write_output(render_weights(result, fmt, width=output_width()), fmt, color=wants_color(fmt))
    if result.problems:
        more = f" (and {len(result.problems) - 1} more, listed above)" if len(result.problems) > 1 else ""
        raise ProblemsFound(f"{result.file}: the tensors contradict their config: {result.problems[0]}{more}")
