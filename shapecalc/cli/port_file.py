"""``shapecalc port FILE --to torch|keras|onnx -o OUT``: the recurrent layers of a checkpoint,
converted to another framework's file. ``shapecalc port`` (:mod:`shapecalc.cli.port`) sends
here every first argument that is not a layer kind.

OUT is written whole through a temporary file and a rename (``--to keras`` also writes the model
beside it, OUT with ``.json`` for ``.weights.h5``); an existing OUT only with ``--force``, FILE
never. The summary goes to stdout. The readers, recipes and writers load when it runs.
"""

from __future__ import annotations

import os
from typing import Any

import click

from shapecalc.errors import ShapecalcError, shown

PORT_FILE_FORMATS = ("table", "json")


def port_file(ctx: click.Context, path: str, source: str | None, to: str, fmt: str,
              options: dict[str, Any]) -> None:  # fmt: skip
    """Convert the weights file ``path`` to framework ``to`` and write ``-o OUT``."""
    from shapecalc.cli.target import OutputFile, output_file, reads
    from shapecalc.portfile.convert import beside, convert_file
    from shapecalc.render.port_file import render_port

    if not os.path.exists(path):  # a mistyped layer kind, or a missing file
        reason = f"must be one of lstm, gru, rnn or a weights file, got {shown(path)} (no such file)"
        raise click.BadParameter(reason, ctx=ctx, param_hint="'LAYER'")
    if source is not None:
        raise ShapecalcError("a weights file says its own framework: give --from only with a LAYER", "--from")
    if options:
        flag = "--" + next(iter(options)).replace("_", "-")
        raise ShapecalcError("sets a LAYER's option; a weights file gives its own", flag)
    if fmt not in PORT_FILE_FORMATS:
        raise ShapecalcError(f"porting a file prints table or json, got {fmt!r}", "--format")
    reads(path)
    main = output_file()
    if main is None:
        raise ShapecalcError("porting a file writes a file: give -o OUT", "--output")
    if to == "keras" and not main.path.endswith(".weights.h5"):
        raise ShapecalcError(f"Keras loads weights only from a file ending in .weights.h5, got {main.path!r}",
                             "--output")  # fmt: skip
    targets = [main]
    if to == "keras":
        model = OutputFile(beside(main.path, ".json"), force=main.force)
        model.check([path])
        targets.append(model)
    conversion = convert_file(path, to)
    try:
        for target, (_, data) in zip(targets, conversion.payloads, strict=True):
            target.write(data)
        for target in targets:  # each one whole, in one rename
            target.commit()
    finally:
        for target in targets:
            target.discard()
    click.echo(render_port(conversion, [t.path for t in targets], fmt), nl=False)
