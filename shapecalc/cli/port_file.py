"""``shapecalc port FILE --to torch|keras|onnx -o OUT``: the recurrent layers of a checkpoint,
converted to another framework's file.

Only Click is imported here; the readers, the recipes and the writers load when it runs.
"""

from __future__ import annotations

import click

from shapecalc.cli.output import write_output
from shapecalc.cli.params import Choice, Command

PORT_FORMATS = ("table", "json")


@click.command("port", cls=Command)
@click.argument("file", metavar="FILE", type=click.Path())  # the shell completes file names
@click.option("--to", "to", type=Choice(("torch", "keras", "onnx")), required=True,
              help="The framework to convert to.")  # fmt: skip
@click.option("-o", "--output", "output", metavar="OUT", type=click.Path(), required=True,
              help="The file to write (atomically; never FILE).")  # fmt: skip
@click.option("--force", is_flag=True, help="Let OUT replace an existing file (never FILE itself).")
@click.option("--format", "fmt", type=Choice(PORT_FORMATS), default="table", show_default=True,
              help="Format of the summary.")  # fmt: skip
def port_file_command(file: str, to: str, output: str, force: bool, fmt: str) -> None:
    """Convert the recurrent layers of a weights file to another framework.

    FILE is any file 'shapecalc weights' reads. Each LSTM, GRU and RNN layer is
    converted exactly (gates reordered, kernels transposed, biases split or
    summed); other layers are listed as not converted. A layer the target cannot
    compute exactly stops the port and nothing is written.

    \b
    --to torch  a state_dict as safetensors (keys weight_ih_l0, ...), and the
                nn.LSTM(...) that loads it
    --to keras  a Keras 3 .weights.h5 (OUT must end so) and OUT.json beside it,
                the Functional model whose load_weights() takes it
    --to onnx   one LSTM/GRU/RNN node per layer, input X, layout 0

    Needs 'shapecalc[port]' (numpy, safetensors; h5py and onnx for those formats).

    \b
    Examples:
      shapecalc port exported.onnx --to torch -o exported.safetensors
      shapecalc port tagger.pt --to keras -o tagger.weights.h5
      shapecalc port tagger.pt --to onnx -o tagger.onnx --format json
    """
    from shapecalc.cli.target import OutputFile  # the engine loads only when it runs
    from shapecalc.errors import ShapecalcError
    from shapecalc.portfile.convert import beside, convert_file
    from shapecalc.render.port_file import render_port

    if to == "keras" and not output.endswith(".weights.h5"):
        raise ShapecalcError(f"Keras loads weights only from a file ending in .weights.h5, got {output!r}",
                             "--output")  # fmt: skip
    targets = []
    for suffix in ("", ".json") if to == "keras" else ("",):
        target = OutputFile(beside(output, suffix), force=force)
        target.check([file])
        targets.append(target)
    conversion = convert_file(file, to)
    try:
        for target, (_, data) in zip(targets, conversion.payloads, strict=True):
            target.write(data)
        for target in targets:
            target.commit()
    finally:
        for target in targets:
            target.discard()
    write_output(render_port(conversion, [t.path for t in targets], fmt), fmt)
