"""The rows the table and markdown renderers share: text cells from a result.

>>> from shapecalc.api import shapes
>>> rows = summary_rows(shapes("lstm", units=32, input_dim=20))
>>> rows[1]
Row(name='kernel', shape='(20, 128)', per_gate='(20, 32) each', params='2,560', meaning='input weights W')
"""

from __future__ import annotations

import re
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
    """``6784`` -> ``6,784``; a symbolic count with its numbers grouped the same way.

    >>> from shapecalc.dims import sym
    >>> format_count(6784), format_count(sym("batch") * sym("timestep") * 50295168)
    ('6,784', 'batch*timestep*50,295,168')
    """
    if isinstance(value, int):
        return f"{value:,}"
    return _NUMBER.sub(lambda match: f"{int(match[0]):,}", str(value))


#: A number standing alone in an expression (not the digits of a name such as ``d1``).
_NUMBER = re.compile(r"(?<![A-Za-z_0-9])[0-9]{4,}")
_SI = ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def human_count(value: Dim) -> str:
    """A count as people read it: the exact number, and beside it the rounded size in SI units.

    >>> human_count(1258291200), human_count(950)
    ('1,258,291,200 (1.26 G)', '950')
    """
    text = format_count(value)
    if isinstance(value, int):
        for scale, prefix in _SI:
            if abs(value) >= scale:
                return f"{text} ({value / scale:.3g} {prefix})"
    return text


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
    lines = [f"params: {format_count(result.params)}", *cost_lines(result)]
    lines.append(f"returns: {', '.join(result.outputs)}")
    if result.gate_order:
        lines.append(f"gate order: {', '.join(result.gate_order)}")
    lines += call_lines(result)
    lines += [f"valid when: {c}" for c in result.constraints]
    lines += [f"note: {n}" for n in result.notes]
    return lines


#: Longest ``batch_sizes`` written out entry by entry; longer ones print as runs (``16 ×100,000``).
BATCH_SIZES_SHOWN = 16


def batch_sizes_text(runs: tuple[tuple[int, int], ...]) -> str:
    """``batch_sizes`` as PyTorch prints it when short, as runs ``size ×steps`` when long.

    >>> batch_sizes_text(((3, 1), (2, 2), (1, 4)))
    '3, 2, 2, 1, 1, 1, 1'
    >>> batch_sizes_text(((32, 50), (16, 100000)))
    '32 ×50, 16 ×100,000'
    """
    if sum(steps for _, steps in runs) <= BATCH_SIZES_SHOWN:
        return ", ".join(str(size) for size, steps in runs for _ in range(steps))
    return ", ".join(f"{size:,}" if steps == 1 else f"{size:,} ×{steps:,}" for size, steps in runs)


def call_lines(result: LayerResult) -> list[str]:
    """How a PyTorch module is called, when not with a plain batch: the initial states it takes,
    and for packed lengths the ``PackedSequence`` in and out (nothing otherwise)."""
    lines = []
    packing = result.packing
    if packing is not None:
        order = "enforce_sorted=True" if packing.enforce_sorted else "enforce_sorted=False: sorted by PyTorch"
        indices = ""
        if packing.input.sorted_indices is not None:
            indices = f", sorted_indices and unsorted_indices {format_shape(packing.input.sorted_indices)}"
        lines += [
            f"packed: pack_padded_sequence(input, lengths) of {packing.sequences:,} sequences, "
            f"{packing.total:,} steps in all ({order})",
            f"batch_sizes: {batch_sizes_text(packing.batch_sizes)} ({packing.steps:,} steps)",
            f"PackedSequence in: data {format_shape(packing.input.data)}, batch_sizes "
            f"{format_shape(packing.input.batch_sizes)}{indices}",
            f"PackedSequence out: data {format_shape(packing.output.data)}; pad_packed_sequence(output): "
            f"{format_shape(packing.padded_output)}",
        ]
    if result.initial_states:
        shapes = ", ".join(f"{t.name} {format_shape(t.shape)}" for t in result.initial_states)
        lines.append(f"initial states: {shapes}")
    return lines


def format_bytes(value: Dim) -> str:
    """``27136`` -> ``27,136 bytes (26.5 KiB)``; a symbolic count prints as its expression.

    >>> format_bytes(512), format_bytes(3 * 2**30)
    ('512 bytes', '3,221,225,472 bytes (3.0 GiB)')
    """
    text = f"{format_count(value)} bytes"
    if not isinstance(value, int) or value < 1024:
        return text
    units = ("KiB", "MiB", "GiB", "TiB", "PiB")
    scaled, index = value / 1024, 0
    while scaled >= 1024 and index < len(units) - 1:
        scaled, index = scaled / 1024, index + 1
    return f"{text} ({scaled:.1f} {units[index]})"


def cost_lines(result: LayerResult) -> list[str]:
    """MACs, FLOPs and bytes, as ``derive`` counted them (nothing when they are absent)."""
    costs = result.costs
    if costs is None:
        return []
    return [
        f"MACs: {human_count(costs.macs)}",
        f"FLOPs: {human_count(costs.flops)}",
        f"weights ({costs.dtype}): {format_bytes(costs.weight_bytes)}",
        f"activations ({costs.dtype}): {format_bytes(costs.step_bytes)} per step, "
        f"{format_bytes(costs.sequence_bytes)} for the whole sequence (kept for training)",
    ]


class StepRow(NamedTuple):
    equation: str
    operands: list[str]
    result: str


def step_rows(result: LayerResult) -> list[StepRow]:
    """Each explained step: its equation, its operands' and its result's ``symbol: shape``.

    >>> from shapecalc.api import shapes
    >>> row = step_rows(shapes("rnn", units=4, input_dim=3, use_bias=False, explain=True))[1]
    >>> row.equation, row.result
    ('h_t = tanh(x_t · W + h_{t-1} · U)', 'h_t: (batch, 4)')
    >>> row.operands
    ['x_t: (batch, 3)', 'W: (3, 4)', 'h_{t-1}: (batch, 4)', 'U: (4, 4)']
    """
    if result.explanation is None:
        return []
    return [
        StepRow(step.equation, [o.annotation() for o in step.operands], step.result.annotation())
        for step in result.explanation.steps
    ]
