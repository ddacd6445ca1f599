"""``shapecalc port FILE``'s summary: the layers converted (name, source, target, keys and shapes),
those not converted, and the files written. Formats only.

>>> from shapecalc.portfile.convert import Conversion
>>> print(render_port(Conversion("m.pt", "pytorch", "onnx", [], [("fc", "not a recurrent layer")]),
...                   ["m.onnx"], "table"), end="")
m.pt -> ONNX model
fc: not converted (not a recurrent layer)
wrote m.onnx
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from shapecalc.dims import format_shape
from shapecalc.portfile.convert import TARGET_FILES, Conversion
from shapecalc.render.inert import terminal


def render_port(conversion: Conversion, written: Sequence[str], fmt: str) -> str:
    """The summary as a table (``table``) or the port JSON (``json``)."""
    if fmt == "json":
        return json.dumps(conversion.to_json(written), indent=2, ensure_ascii=False) + "\n"
    lines = [f"{terminal(conversion.file)} -> {TARGET_FILES[conversion.to]}"]
    for layer in conversion.layers:
        lines.append(f"{terminal(layer.source)} -> {terminal(layer.target, None)}")
        width = max(len(key) for key, _ in layer.keys)
        lines += [f"  {terminal(key).ljust(width)}  {format_shape(shape)}" for key, shape in layer.keys]
        lines += [f"  {terminal(note, None)}" for note in layer.notes]
    lines += [f"{terminal(name)}: not converted ({why})" for name, why in conversion.skipped]
    lines += [f"wrote {terminal(path)}" for path in written]
    return "\n".join(line.rstrip() for line in lines) + "\n"
