"""Keras ops saved into Functional graphs: ``x + y``, ``keras.ops.not_equal(ids, 0)``, ...

A Functional model keeps the ops applied to its Keras tensors as nodes of their own (module
``keras.src.ops.numpy``); ``Embedding(mask_zero=True)`` adds a ``NotEqual`` whose result an RNN
takes as ``mask=``. shapecalc spells their classes ``ops.NAME``: ``ops.Add`` broadcasts as NumPy
does, which the ``Add`` layer does not. Numbers in their arguments broadcast as size-less tensors.

>>> from shapecalc.dims import sym
>>> b = sym("batch")
>>> broadcast(Options(), LayerCall(((b, 5, 1), (7,)))).shapes
((Expr('batch'), 5, 7),)
>>> same_shape(Options(), LayerCall(((b, 3),))).shapes
((Expr('batch'), 3),)
"""

from __future__ import annotations

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, same_size
from shapecalc.model.options import Options

#: The modules Keras records for an op node (``keras.src.ops.numpy``, ``keras.src.ops.nn``, ...).
OPS_MODULES = ("keras.src.ops", "keras.ops")
PREFIX = "ops."

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


def broadcast(options: Options, call: LayerCall) -> LayerOutput:
    """The tensors' shapes broadcast together (the numbers among the arguments change nothing)."""
    if not call.inputs:
        raise ShapecalcError("takes at least one tensor, got none")
    shape, conditions = broadcast_shapes(call.inputs)
    return LayerOutput((shape,), constraints=tuple(conditions))


def same_shape(options: Options, call: LayerCall) -> LayerOutput:
    return LayerOutput((call.single(),))


RULES = (
    *(Rule(op_class(name), broadcast, Options) for name in BINARY),
    *(Rule(op_class(name), same_shape, Options) for name in UNARY),
)
