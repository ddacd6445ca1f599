"""One layer made of several recurrent runs: a ``Bidirectional`` whose backward layer differs
from its forward one, an ``RNN`` over ``StackedRNNCells``.

Each part is a recurrent layer the single-layer engine derived; the whole adds their
parameters and costs, and its detail lists every part's tensors under a prefix
(``forward/kernel``, ``cell_1/recurrent_kernel``), as the Keras weights are named.

>>> from shapecalc.dims import sym
>>> from shapecalc.model.layers.base import LayerCall
>>> from shapecalc.model.layers.recurrent import run_recurrent, table_schema
>>> def lstm(units):
...     options = table_schema("lstm").model_validate({"units": units})
...     return run_recurrent("lstm", options, LayerCall(((sym("batch"), 5, 3),)))
>>> whole = combine("Bidirectional(LSTM)", [("forward/", lstm(4)), ("backward/", lstm(6))],
...                 ((sym("batch"), 10),), [Tensor("output", "output", (sym("batch"), 10))])
>>> whole.shapes, whole.params, whole.detail.outputs
(((Expr('batch'), 10),), 368, ('output',))
>>> [t.name for t in whole.detail.tensors if t.role == "weight"][3:]
['backward/kernel', 'backward/recurrent_kernel', 'backward/bias']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shapecalc.costs import Costs
from shapecalc.dims import Dim
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerOutput
from shapecalc.record import replace
from shapecalc.result import LayerResult, Tensor


def combine(
    class_name: str,
    parts: Sequence[tuple[str, LayerOutput]],
    shapes: tuple[Shape, ...],
    outputs: Sequence[Tensor],
    returns: Sequence[str] | None = None,
    constraints: Sequence[str] = (),
) -> LayerOutput:
    """The layer made of ``parts`` (``(prefix, output)``), returning ``shapes``.

    ``outputs`` are the whole's own output tensors (the merged output); ``returns`` names what
    it returns in Keras' order (default: the ``outputs``), the parts' tensors by their prefixed
    names (``forward/hidden_state``).
    """
    params: Dim = 0
    macs: Dim | None = 0
    flops: Dim | None = 0
    step: Dim = 0
    sequence: Dim = 0
    conditions: dict[str, None] = {}
    for _, part in parts:
        params = params + part.params
        macs = None if macs is None or part.macs is None else macs + part.macs
        flops = None if flops is None or part.flops is None else flops + part.flops
        step, sequence = step + part.activations[0], sequence + part.activations[1]
        conditions.update(dict.fromkeys(part.constraints))
    conditions.update(dict.fromkeys(constraints))
    details = [(prefix, part.detail) for prefix, part in parts if part.detail is not None]
    detail = None
    if len(details) == len(parts):
        names = tuple(returns) if returns is not None else tuple(t.name for t in outputs)
        detail = combined_result(class_name, details, outputs, names, tuple(conditions))
    return LayerOutput(
        shapes,
        params,
        macs=macs,
        detail=detail,
        constraints=tuple(conditions),
        class_name=class_name,
        flops=flops,
        activations=(step, sequence),
    )


def combined_result(
    layer: str,
    parts: Sequence[tuple[str, LayerResult]],
    outputs: Sequence[Tensor],
    returns: tuple[str, ...],
    constraints: tuple[str, ...],
) -> LayerResult:
    """The single-layer result of the whole: the first part's input, each part's weights, gates
    and states under its prefix, then ``outputs``."""
    first = parts[0][1]
    tensors = [first.tensor("input")]
    for prefix, part in parts:
        tensors += [_prefixed(prefix, t) for t in part.tensors if t.role not in ("input", "output")]
    tensors += outputs
    orders = {part.gate_order for _, part in parts}
    notes = dict.fromkeys(note for _, part in parts for note in part.notes)
    summary = "; ".join(f"{prefix.rstrip('/')}: {part.summary}" for prefix, part in parts)
    return LayerResult(
        layer=layer,
        framework=first.framework,
        config={prefix.rstrip("/"): part.config for prefix, part in parts},
        summary=summary,
        tensors=tuple(tensors),
        outputs=returns,
        params=sum_dims(part.params for _, part in parts),
        gate_order=orders.pop() if len(orders) == 1 else "",
        constraints=constraints,
        notes=tuple(notes),
        costs=_costs([part.costs for _, part in parts]),
    )


def _prefixed(prefix: str, tensor: Tensor) -> Tensor:
    slice_of = None if tensor.slice_of is None else prefix + tensor.slice_of
    return replace(tensor, name=prefix + tensor.name, slice_of=slice_of)


def sum_dims(values: Iterable[Dim]) -> Dim:
    """``values`` added up (sizes may be symbolic)."""
    total: Dim = 0
    for value in values:
        total = total + value
    return total


def _costs(parts: Sequence[Costs | None]) -> Costs | None:
    """The parts' costs added up (``None`` when some part has none)."""
    if any(part is None for part in parts):
        return None
    known = [part for part in parts if part is not None]
    return Costs(
        dtype=known[0].dtype,
        macs=sum_dims(c.macs for c in known),
        flops=sum_dims(c.flops for c in known),
        weight_bytes=sum_dims(c.weight_bytes for c in known),
        step_bytes=sum_dims(c.step_bytes for c in known),
        sequence_bytes=sum_dims(c.sequence_bytes for c in known),
        step_elements=sum_dims(c.step_elements for c in known),
        sequence_elements=sum_dims(c.sequence_elements for c in known),
    )
