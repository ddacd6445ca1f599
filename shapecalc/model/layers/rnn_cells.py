"""Keras' ``RNN(cell)``: a recurrent layer built from a cell object, as ``to_json()`` writes it.

``RNN(LSTMCell(units))`` is ``LSTM(units)`` (``GRUCell``: ``GRU``, ``SimpleRNNCell``:
``SimpleRNN``), so it is derived by the same rule, with the ``RNN``'s ``return_sequences`` and
``return_state``. ``StackedRNNCells([c1, c2, ...])`` runs the cells one above the other at each
step: cell 1 reads the input, each next cell the previous one's output; the layer returns the last
cell's output and, with ``return_state``, every cell's states in order. The cells only appear
inside an ``RNN``; alone they are refused. Keras' ConvLSTM cell is not public (and Keras 3.15's
``RNN`` cannot run it), so no file holds one.

>>> from shapecalc.dims import sym
>>> from shapecalc.model.graph import LayerSpec
>>> from shapecalc.model.engine import run_spec
>>> cells = (LayerSpec("LSTMCell", {"units": 4}), LayerSpec("GRUCell", {"units": 2}))
>>> stack = LayerSpec("StackedRNNCells", {"cells": cells})
>>> layer = LayerSpec("RNN", {"return_sequences": True, "return_state": True}, stack)
>>> out = run_spec(layer, LayerCall(((sym("batch"), 5, 3),)))
>>> out.class_name, out.params, [tuple(map(str, shape)) for shape in out.shapes]
('RNN(StackedRNNCells)', 176, [('batch', '5', '2'), ('batch', '4'), ('batch', '4'), ('batch', '2')])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule
from shapecalc.model.layers.combined import combine
from shapecalc.model.layers.recurrent import run_recurrent, sequence_and_states, table_schema
from shapecalc.model.options import Flag, Options, accepted_keys, validate, weight_settings
from shapecalc.record import replace as replace_record
from shapecalc.result import Tensor

#: Keras cell class -> the layer kind it steps (the layer ``RNN(cell)`` equals).
CELL_KINDS = {"LSTMCell": "lstm", "GRUCell": "gru", "SimpleRNNCell": "rnn"}
#: How many states each kind's cell carries (LSTM: h and c).
STATE_COUNTS = {"lstm": 2, "gru": 1, "rnn": 1}
#: The options of the option table a cell takes (the sequence options belong to its RNN).
CELL_OPTIONS = frozenset({"units", "use_bias", "reset_after"})
#: What an RNN's cell may be.
CELLS_TEXT = "a recurrent cell (LSTMCell, GRUCell, SimpleRNNCell or StackedRNNCells)"
#: The family ``shapecalc layers`` shows for the cells.
CELL_FAMILY = "cell, inside RNN"

_CELL_INERT = weight_settings("kernel", "recurrent", "bias") | {
    "activation",
    "dropout",
    "recurrent_dropout",
    "seed",
}
CELL_INERT = {
    "SimpleRNNCell": _CELL_INERT,
    "GRUCell": _CELL_INERT | {"recurrent_activation"},
    "LSTMCell": _CELL_INERT | {"recurrent_activation", "unit_forget_bias"},
}
#: The RNN's arguments that cannot change a shape or a count.
RNN_INERT = frozenset({"go_backwards", "stateful", "unroll", "zero_output_for_mask"})


class RNNOptions(Options):
    return_sequences: Flag = False
    return_state: Flag = False


class StackedCellsOptions(Options):
    #: The cells, as the file readers load them (each a layer spec).
    cells: Any = None


@cache
def cell_schema(class_name: str) -> type[Options]:
    """The options a cell of ``class_name`` takes, from the option table (as its layer's)."""
    return table_schema(CELL_KINDS[class_name], only=CELL_OPTIONS, name=f"{class_name}Options")


@dataclass(frozen=True)
class CellStep:
    """One cell of an RNN, in stepping order: its kind, class, options as given, and the key that
    names it in errors (``cell``, ``cell.cells[1]``)."""

    kind: str
    class_name: str
    options: Mapping[str, Any]
    key: str


def cell_steps(cell: Any, key: str = "cell") -> list[CellStep]:
    """The cells an RNN steps, a ``StackedRNNCells`` flattened (a stack inside a stack too)."""
    if isinstance(cell, ModelGraph) or not isinstance(cell, LayerSpec):
        raise ShapecalcError(f"must be {CELLS_TEXT}", option=key)
    if cell.class_name == "StackedRNNCells":
        validate(StackedCellsOptions, cell.options, "StackedRNNCells")
        cells = cell.options.get("cells")
        if not isinstance(cells, tuple) or not cells:
            raise ShapecalcError("must be a list of one or more cells", option=f"{key}.cells")
        return [
            step for index, inner in enumerate(cells) for step in cell_steps(inner, f"{key}.cells[{index}]")
        ]
    kind = CELL_KINDS.get(cell.class_name)
    if kind is None:
        raise ShapecalcError(
            f"must be {CELLS_TEXT}, got {cell.class_name}",
            option=key,
        )
    rule = CELL_RULES[cell.class_name]
    try:
        validate(rule.options, cell.options, cell.class_name, rule.known)
    except ShapecalcError as error:
        raise ShapecalcError(error.message, option=f"{key}.{error.option}" if error.option else key) from None
    return [CellStep(kind, cell.class_name, cell.options, key)]


def run_cell(step: CellStep, call: LayerCall, return_sequences: bool, return_state: bool) -> LayerOutput:
    """One cell over the whole sequence: the layer of its kind with the RNN's sequence options."""
    schema = table_schema(step.kind)
    given = {**step.options, "return_sequences": return_sequences, "return_state": return_state}
    try:
        return run_recurrent(step.kind, schema.model_validate(given), call)
    except ShapecalcError as error:
        if error.option in accepted_keys(cell_schema(step.class_name)):
            raise ShapecalcError(error.message, option=f"{step.key}.{error.option}") from None
        raise


def rnn(options: RNNOptions, call: LayerCall) -> LayerOutput:
    """``RNN(cell)``: the cell's layer, or the stack of cells, over the input sequence."""
    steps = cell_steps(call.inner)
    assert isinstance(call.inner, LayerSpec)
    name = f"RNN({call.inner.class_name})"
    layer_call = LayerCall(call.inputs, call.initial_state)
    if len(steps) == 1 and call.inner.class_name != "StackedRNNCells":
        out = run_cell(steps[0], layer_call, options.return_sequences, options.return_state)
        detail = None if out.detail is None else replace_record(out.detail, layer=name)
        return replace(out, class_name=name, detail=detail)
    if options.return_state and _nested(call.inner):
        raise ShapecalcError(
            "cannot be set with a StackedRNNCells inside a StackedRNNCells: Keras 3 cannot shape the "
            "nested states and refuses to build the layer",
            option="return_state",
        )
    return _stack(name, steps, layer_call, options.return_sequences, options.return_state)


def _nested(stack: LayerSpec) -> bool:
    """Whether a ``StackedRNNCells`` holds another one."""
    cells = stack.options.get("cells") or ()
    return any(isinstance(cell, LayerSpec) and cell.class_name == "StackedRNNCells" for cell in cells)


def _stack(
    name: str, steps: list[CellStep], call: LayerCall, return_sequences: bool, return_state: bool
) -> LayerOutput:
    """The cells one above the other: each reads the sequence of the one below."""
    sequence, states = sequence_and_states(call)
    counts = [STATE_COUNTS[step.kind] for step in steps]
    if states and len(states) != sum(counts):
        raise ShapecalcError(
            f"takes {sum(counts)} initial states (each cell's, in order), got {len(states)}",
            option="initial_state",
        )
    parts: list[tuple[str, LayerOutput]] = []
    final_states: list[Shape] = []
    start = 0
    for index, (step, count) in enumerate(zip(steps, counts, strict=True)):
        last = index == len(steps) - 1
        given = states[start : start + count]
        start += count
        out = run_cell(step, LayerCall((sequence,), given), return_sequences or not last, True)
        sequence = out.shapes[0]
        final_states += out.shapes[1:]
        parts.append((f"cell_{index}/", out))
    output = Tensor("output", "output", sequence, description="the last cell's output")
    returns = ["output"]
    if return_state:
        returns += [
            f"{prefix}{state}" for prefix, part in parts if part.detail for state in part.detail.outputs[1:]
        ]
    shapes = (sequence, *final_states) if return_state else (sequence,)
    return combine(name, parts, shapes, [output], returns)


def alone(options: Options, call: LayerCall) -> LayerOutput:
    """A cell outside an ``RNN``: Keras never serializes one as a model's layer."""
    raise ShapecalcError("is a recurrent cell: it runs only inside an RNN layer (RNN(cell=...))")


CELL_RULES = {
    class_name: Rule(
        class_name, alone, cell_schema(class_name), inert=CELL_INERT[class_name], family=CELL_FAMILY
    )
    for class_name in CELL_KINDS
}
RULES = (
    Rule("RNN", rnn, RNNOptions, inert=RNN_INERT, family="recurrent"),
    *CELL_RULES.values(),
    Rule("StackedRNNCells", alone, StackedCellsOptions, family=CELL_FAMILY),
)
