"""The rows the table and markdown renderers share: text cells from a result.

>>> from shapecalc.api import shapes
>>> rows = summary_rows(shapes("lstm", units=32, input_dim=20))
>>> rows[1]
Row(name='kernel', shape='(20, 128)', per_gate='(20, 32) each', params='2,560', meaning='input weights W')
"""

from __future__ import annotations

from typing import NamedTuple

from shapecalc.dims import Dim, format_shape
from shapecalc.result import LayerResult

COLUMNS = ("tensor", "shape", "per gate", "params", "meaning")


class Row(NamedTuple):
    name: str
    shape: str
    per_gate: str
    params: str
    meaning: str


def format_count(value: Dim) -> str:
    """``6784`` -> ``6,784``; a symbolic count prints as its expression."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def summary_rows(result: LayerResult) -> list[Row]:
    """One row per tensor; a fused weight's slices collapse into its ``per gate`` cell."""
    slices: dict[str, list[str]] = {}
    for tensor in result.tensors:
        if tensor.slice_of is not None:
            slices.setdefault(tensor.slice_of, []).append(format_shape(tensor.shape))
    rows = []
    for tensor in result.tensors:
        if tensor.slice_of is not None:
            continue
        parts = slices.get(tensor.name, [])
        if parts and len(set(parts)) == 1:
            per_gate = f"{parts[0]} each"
        else:
            per_gate = ", ".join(parts)
        params = format_count(tensor.params) if tensor.role == "weight" else ""
        rows.append(Row(tensor.name, format_shape(tensor.shape), per_gate, params, tensor.description))
    return rows


def title(result: LayerResult) -> str:
    return f"{result.layer} ({result.framework}): {result.summary}"


def footer_lines(result: LayerResult) -> list[str]:
    lines = [f"params: {format_count(result.params)}", f"returns: {', '.join(result.outputs)}"]
    if result.gate_order:
        lines.append(f"gate order: {', '.join(result.gate_order)}")
    lines += [f"valid when: {c}" for c in result.constraints]
    lines += [f"note: {n}" for n in result.notes]
    return lines
