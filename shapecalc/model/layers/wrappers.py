"""``TimeDistributed(layer)``: the wrapped layer applied to every time step.

>>> from shapecalc.dims import sym
>>> from shapecalc.model.graph import LayerSpec
>>> from shapecalc.model.engine import run_spec
>>> inner = LayerSpec("Dense", {"units": 4})
>>> call = LayerCall(((sym("batch"), 10, 8),), inner=inner, run=run_spec)
>>> out = time_distributed(TimeDistributedOptions(), call)
>>> out.shapes, out.params, out.class_name
(((Expr('batch'), 10, 4),), 36, 'TimeDistributed(Dense)')
"""

from __future__ import annotations

from dataclasses import replace

from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, require_min_rank
from shapecalc.model.options import Options


class TimeDistributedOptions(Options):
    pass


def time_distributed(options: TimeDistributedOptions, call: LayerCall) -> LayerOutput:
    """Run the inner layer on ``(batch, *step)`` and put the time axis back after the batch."""
    sequence = call.single()
    require_min_rank(sequence, 3, "(batch, timesteps, ...)")
    steps = sequence[1]
    inner = call.run_inner(((sequence[0], *sequence[2:]),))
    shapes = tuple((shape[0], steps, *shape[1:]) for shape in inner.shapes)
    macs = None if inner.macs is None else inner.macs * steps
    flops = None if inner.flops is None else inner.flops * steps
    activations = (inner.activations[0] * steps, inner.activations[1] * steps)
    name = f"TimeDistributed({inner.class_name})"
    return replace(inner, shapes=shapes, macs=macs, flops=flops, activations=activations, class_name=name)


RULES = (Rule("TimeDistributed", time_distributed, TimeDistributedOptions),)
