"""A weights file's contents as a table, markdown or JSON: the tensors grouped by layer, then
each rebuilt recurrent layer with its full single-layer table. Formats only.

>>> from shapecalc.weights.result import TensorRow, WeightsResult
>>> from shapecalc.weights.tensors import StoredTensor
>>> rows = (TensorRow(StoredTensor("fc.weight", (2, 3), "float32"), "fc"),)
>>> print(render_weights(WeightsResult("m.pt", "pytorch", rows, 6, ()), "markdown"), end="")
### m.pt: PyTorch torch.save (zip)
<BLANKLINE>
1 tensor, 6 params, 24 bytes
<BLANKLINE>
| tensor | shape | dtype | bytes | gates |
| --- | --- | --- | ---: | --- |
| `fc.weight` | `(2, 3)` | float32 | 24 |  |
"""

from __future__ import annotations

import json

from shapecalc.errors import ShapecalcError
from shapecalc.render.layer import render_layer
from shapecalc.weights.result import RebuiltLayer, TensorRow, WeightsResult

FORMAT_NAMES = {
    "safetensors": "safetensors",
    "pytorch": "PyTorch torch.save (zip)",
    "pytorch-legacy": "PyTorch torch.save (legacy format)",
    "keras": "Keras 3 .keras archive",
    "keras-weights": "Keras 3 .weights.h5",
    "keras-h5": "legacy Keras HDF5",
    "onnx": "ONNX",
}
WEIGHTS_FORMATS = ("table", "json", "markdown")


def render_weights(result: WeightsResult, fmt: str, *, width: int | None = None) -> str:
    """``result`` in format ``fmt`` (``table``, ``json`` or ``markdown``)."""
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "table":
        return _table(result, width)
    if fmt == "markdown":
        return _markdown(result)
    raise ShapecalcError(f"must be one of {', '.join(WEIGHTS_FORMATS)}, got {fmt!r}", option="format")


def _title(result: WeightsResult) -> str:
    return f"{_inert(result.file)}: {FORMAT_NAMES.get(result.format, result.format)}"


def _totals(result: WeightsResult) -> str:
    count = len(result.tensors)
    return f"{count:,} tensor{'s' if count != 1 else ''}, {result.params:,} params, {_bytes(result.bytes)}"


def _bytes(count: int) -> str:
    if count < 1024:
        return f"{count:,} bytes"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count:,} bytes ({count / size:.1f} {unit})"
    return f"{count:,} bytes"  # pragma: no cover


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _gates(row: TensorRow) -> str:
    return ", ".join(f"{gate.gate} {gate.index}" for gate in row.gates)


def _inert(text: str) -> str:
    # Names come from the file: keep control characters and line breaks out of the output.
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _extra_lines(result: WeightsResult) -> list[str]:
    lines = [f"{key}: {_inert(str(value))}" for key, value in result.metadata.items()]
    lines += [f"{s.what}: {s.count:,} tensors, {_bytes(s.bytes)} (not listed)" for s in result.others]
    return [_inert(line) for line in lines]


def _layer_head(layer: RebuiltLayer) -> list[str]:
    name = _inert(layer.name) or "(top level)"
    lines = [f"Layer {name}: {layer.result.layer}, rebuilt from {len(layer.tensors)} tensors"]
    lines += [f"  assumed: {item}" for item in layer.assumed]
    lines += [f"  note: {item}" for item in layer.notes]
    lines.append(f"  command: {layer.command}")
    return lines


def _grouped(result: WeightsResult) -> list[TensorRow]:
    order: dict[str, list[TensorRow]] = {}
    for row in result.tensors:
        order.setdefault(row.group, []).append(row)
    return [row for rows in order.values() for row in rows]


def _table(result: WeightsResult, width: int | None) -> str:
    lines = [_title(result), "", _totals(result)]
    lines += _extra_lines(result)
    heads = ("tensor", "shape", "dtype", "bytes", "gates")
    rows: list[tuple[str, ...]] = []
    previous: str | None = None
    for row in _grouped(result):
        if previous is not None and row.group != previous:
            rows.append(("",) * 5)
        previous = row.group
        t = row.tensor
        rows.append((_inert(t.name), _shape(t.shape), t.dtype, f"{t.bytes:,}", _gates(row)))
    if rows:
        widths = [max(len(head), *(len(r[k]) for r in rows)) for k, head in enumerate(heads)]

        def line(cells: tuple[str, ...]) -> str:
            text = [
                cell.rjust(w) if k == 3 else cell.ljust(w)
                for k, (cell, w) in enumerate(zip(cells, widths, strict=True))
            ]
            return ("  " + "   ".join(text)).rstrip()

        lines += ["", line(heads), " " + "─" * (sum(widths) + 3 * len(widths))]
        lines += [line(r) if any(r) else "" for r in rows]
    for layer in result.layers:
        lines += ["", *_layer_head(layer), ""]
        lines.append(render_layer(layer.result, "table", width=width).rstrip("\n"))
    if result.problems:
        lines += ["", "Problems:"] + [f"  {_inert(problem)}" for problem in result.problems]
    return "\n".join(lines) + "\n"


def _markdown(result: WeightsResult) -> str:
    lines = [f"### {_title(result)}", "", _totals(result)]
    lines += [f"- {line}" for line in _extra_lines(result)]
    lines += ["", "| tensor | shape | dtype | bytes | gates |", "| --- | --- | --- | ---: | --- |"]
    for row in _grouped(result):
        t = row.tensor
        cells = [f"`{_inert(t.name)}`", f"`{_shape(t.shape)}`", t.dtype, f"{t.bytes:,}", _gates(row)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    for layer in result.layers:
        head = _layer_head(layer)
        lines += ["", f"#### {head[0]}", ""] + [f"- {item.strip()}" for item in head[1:]] + [""]
        lines.append(render_layer(layer.result, "markdown").rstrip("\n"))
    if result.problems:
        lines += ["", "#### Problems", ""] + [f"- {_inert(problem)}" for problem in result.problems]
    return "\n".join(lines) + "\n"
