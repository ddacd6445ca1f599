"""Keras ops saved into Functional graphs: ``x + y``, ``keras.ops.not_equal(ids, 0)``, ...

A Functional model keeps the ops applied to its Keras tensors as nodes of their own (module
``keras.src.ops.numpy``); ``Embedding(mask_zero=True)`` adds a ``NotEqual`` whose result an RNN
takes as ``mask=``. shapecalc spells their classes ``ops.NAME``: ``ops.Add`` broadcasts as NumPy
does, which the ``Add`` layer does not. Numbers in their arguments broadcast as size-less tensors.

>>> from shapecalc.dims import sym
>>> b = sym("batch")
>>> broadcast(OpOptions(), LayerCall(((b, 5, 1), (7,)))).shapes
((Expr('batch'), 5, 7),)
>>> same_shape(OpOptions(), LayerCall(((b, 3),))).shapes
((Expr('batch'), 3),)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, same_size
from shapecalc.model.options import Options, as_counts

#: The modules Keras records for an op node (``keras.src.ops.numpy``, ``keras.src.ops.nn``, ...).
OPS_MODULES = ("keras.src.ops", "keras.ops")
PREFIX = "ops."
CONSTANTS = frozenset({"constant_shapes"})

#: Ops of two (or more) tensors or numbers, broadcast as NumPy does.
BINARY = (
    "Add",
    "Subtract",
    "Multiply",
    "Divide",
    "TrueDivide",
    "FloorDivide",
    "Mod",
    "Power",
    "Maximum",
    "Minimum",
    "Arctan2",
    "Equal",
    "NotEqual",
    "Less",
    "LessEqual",
    "Greater",
    "GreaterEqual",
    "LogicalAnd",
    "LogicalOr",
    "LogicalXor",
)
#: Ops of one tensor, element by element.
UNARY = (
    "Negative",
    "Absolute",
    "Abs",
    "Exp",
    "Log",
    "Log1p",
    "Expm1",
    "Sqrt",
    "Square",
    "Sign",
    "Floor",
    "Ceil",
    "Reciprocal",
    "Sin",
    "Cos",
    "Tanh",
    "LogicalNot",
)


def op_class(name: str) -> str:
    """The class shapecalc gives a Keras op: ``NotEqual`` -> ``ops.NotEqual``.

    >>> op_class("NotEqual")
    'ops.NotEqual'
    """
    return PREFIX + name


def broadcast_shapes(shapes: tuple[Shape, ...]) -> tuple[Shape, list[str]]:
    """NumPy broadcasting: axes line up from the right, a size 1 stretches; two symbolic sizes
    that differ become a condition."""
    out: list[Dim] = []
    conditions: list[str] = []
    for shape in shapes:
        longer, shorter = (list(shape), out) if len(shape) >= len(out) else (out, list(shape))
        lead = len(longer) - len(shorter)
        merged = longer[:lead]
        for a, b in zip(longer[lead:], shorter, strict=True):
            if a == 1 or b == 1:
                merged.append(b if a == 1 else a)
                continue
            what = f"shapes {format_shape(tuple(out))} and {format_shape(shape)} do not broadcast"
            size, condition = same_size(a, b, what)
            merged.append(size)
            if condition:
                conditions.append(condition)
        out = merged
    return tuple(out), conditions


#: Most axes a constant may have (deeper nesting is not a tensor a model holds).
MAX_CONSTANT_RANK = 32


def constant_shape(value: Any) -> tuple[int, ...]:
    """The shape of a constant a graph holds (``__tensor__``/``__numpy__``: nested lists).

    >>> constant_shape([[1, 2, 3], [4, 5, 6]]), constant_shape(7)
    ((2, 3), ())
    """
    shape: list[int] = []
    level = [value]
    while isinstance(level[0], list):
        if len(shape) == MAX_CONSTANT_RANK:
            raise ShapecalcError(f"a constant has more than {MAX_CONSTANT_RANK} axes")
        length = len(level[0])
        if any(not isinstance(item, list) or len(item) != length for item in level):
            raise ShapecalcError("a constant's nested lists are not all of one length")
        shape.append(length)
        level = [item for items in level for item in items]
        if not level:
            break
    if any(isinstance(item, list) for item in level):
        raise ShapecalcError("a constant's nested lists are not all of one length")
    return tuple(shape)


def _as_shapes(value: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, (list, tuple)):
        raise ShapecalcError(f"must be a list of shapes, got {shown(value)}")
    return tuple(as_counts(list(shape)) if shape else () for shape in value)


class OpOptions(Options):
    #: The shapes of the constants among the op's arguments (Keras writes their values).
    constant_shapes: Annotated[tuple[tuple[int, ...], ...], PlainValidator(_as_shapes)] = ()


def broadcast(options: OpOptions, call: LayerCall) -> LayerOutput:
    """The tensors' and constants' shapes broadcast together (numbers change nothing)."""
    shapes = (*call.inputs, *options.constant_shapes)
    if not shapes:
        raise ShapecalcError("takes at least one tensor, got none")
    shape, conditions = broadcast_shapes(shapes)
    return LayerOutput((shape,), constraints=tuple(conditions))


def same_shape(options: OpOptions, call: LayerCall) -> LayerOutput:
    return LayerOutput((call.single(),))


RULES = (
    *(Rule(op_class(name), broadcast, OpOptions, call_options=CONSTANTS) for name in BINARY),
    *(Rule(op_class(name), same_shape, OpOptions) for name in UNARY),
)
