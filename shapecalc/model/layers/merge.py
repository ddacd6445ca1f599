"""Layers that join several tensors: ``Concatenate`` and the element-wise merges.

>>> from shapecalc.dims import sym
>>> b = sym("batch")
>>> concatenate(ConcatenateOptions(), LayerCall(((b, 10, 4), (b, 10, 6)))).shapes
((Expr('batch'), 10, 10),)
>>> elementwise(MergeOptions(), LayerCall(((b, 10, 4), (b, 1, 4)))).shapes
((Expr('batch'), 10, 4),)
"""

from __future__ import annotations

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, axis_index, same_size
from shapecalc.model.options import Options


class ConcatenateOptions(Options):
    axis: int = -1


def _at_least_two(call: LayerCall) -> tuple[Shape, ...]:
    if len(call.inputs) < 2:
        raise ShapecalcError(f"needs at least 2 inputs, got {len(call.inputs)}")
    return call.inputs


def concatenate(options: ConcatenateOptions, call: LayerCall) -> LayerOutput:
    """Join along ``axis``; every other axis must agree."""
    shapes = _at_least_two(call)
    first = shapes[0]
    for shape in shapes[1:]:
        if len(shape) != len(first):
            raise ShapecalcError(f"inputs differ in rank: {format_shape(first)} and {format_shape(shape)}")
    axis = axis_index(options.axis, len(first))
    conditions: list[str] = []
    out: list[Dim] = list(first)
    for shape in shapes[1:]:
        for index, size in enumerate(shape):
            if index == axis:
                out[axis] = out[axis] + size
                continue
            what = f"inputs {format_shape(first)} and {format_shape(shape)} differ on axis {index}"
            _, condition = same_size(out[index], size, what)
            if condition:
                conditions.append(condition)
    return LayerOutput((tuple(out),), constraints=tuple(conditions))


class MergeOptions(Options):
    pass


def elementwise(options: MergeOptions, call: LayerCall) -> LayerOutput:
    """``Add``, ``Multiply``, ...: shapes broadcast from the right, as Keras' merge layers do."""
    shapes = _at_least_two(call)
    out, conditions = shapes[0], []
    for shape in shapes[1:]:
        out, found = _broadcast(out, shape)
        conditions += found
    return LayerOutput((out,), constraints=tuple(conditions))


def subtract(options: MergeOptions, call: LayerCall) -> LayerOutput:
    if len(call.inputs) != 2:
        raise ShapecalcError(f"needs exactly 2 inputs, got {len(call.inputs)}")
    return elementwise(options, call)


def _broadcast(left: Shape, right: Shape) -> tuple[Shape, list[str]]:
    if len(left) < len(right):
        left, right = right, left
    lead = len(left) - len(right)
    out: list[Dim] = list(left[:lead])
    conditions = []
    for a, b in zip(left[lead:], right, strict=True):
        if a == 1 or b == 1:
            out.append(b if a == 1 else a)
            continue
        size, condition = same_size(
            a, b, f"inputs {format_shape(left)} and {format_shape(right)} do not match"
        )
        out.append(size)
        if condition:
            conditions.append(condition)
    return tuple(out), conditions


RULES = (
    Rule("Concatenate", concatenate, ConcatenateOptions),
    Rule("Add", elementwise, MergeOptions),
    Rule("Multiply", elementwise, MergeOptions),
    Rule("Average", elementwise, MergeOptions),
    Rule("Maximum", elementwise, MergeOptions),
    Rule("Minimum", elementwise, MergeOptions),
    Rule("Subtract", subtract, MergeOptions),
)
