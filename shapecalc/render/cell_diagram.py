"""The recurrent cells (LSTM, ConvLSTM, GRU, SimpleRNN, in both conventions) as
grid diagrams whose every arrow carries the shape the result holds.

Inputs enter on the left (``x_t`` and ``h_{t-1}`` on two buses under the
gates, ``c_{t-1}`` on the cell line at the top); outputs leave on the right.
Every shape printed comes from a tensor of the
:class:`~shapecalc.result.LayerResult`; an element-wise product is labelled
with the shape of the gate it multiplies (the same tensor size).

>>> from shapecalc.api import shapes
>>> cells, routes = cell_diagram(shapes("lstm", units=32, input_dim=20))
>>> sorted(c.lines[0].text for c in cells.values() if c.kind == "gate")
['tanh candidate c̃t', 'σ forget gate ft', 'σ input gate it', 'σ output gate ot']
>>> cells[(7, 1)].lines[0].text, cells[(3, 2)].lines[0].text
('(batch, 20)', '(batch, 32)')
"""

from __future__ import annotations

from dataclasses import dataclass

from shapecalc.cells import MATH, PLAIN, SIGMOID, fill
from shapecalc.dims import format_shape
from shapecalc.render.drawing import TextLine, math_line, plain_line, shape_lines
from shapecalc.render.grid_layout import Anchor, Cell, Route
from shapecalc.result import LayerResult, Tensor
from shapecalc.views import GateView

#: Horizontal offset of the two bus drops under a gate (``h_{t-1}`` left, ``x_t`` right).
DROP = 14.0
Grid = dict[tuple[int, int], Cell]


@dataclass(frozen=True)
class Gate:
    """One gate box: what it computes, its weights' lines and its output tensor."""

    letter: str
    activation: str
    title: TextLine
    lines: tuple[TextLine, ...]
    tensor: Tensor


class CellParts:
    """The first cell view of a result (layer 0, forward), in the picture's notation."""

    def __init__(self, result: LayerResult) -> None:
        self.cell = result.cells[0]
        self.convention = self.cell.convention
        self.notation = MATH.convolved() if self.cell.convolution is not None else MATH
        gates = self.cell.gates
        #: The tooltips' plain symbols; the candidate is named, as its letter differs by convention.
        self.plain = {
            g.spec.role: PLAIN.symbol(g.spec.symbol, "t") for g in gates if g.spec.role != "candidate"
        }
        #: The step input's and the states' letters: x, h, c (ONNX: X, H, C).
        self.x, self.h, self.c = self.convention.state_symbols
        self.plain.update(
            candidate="candidate", h_prev=f"{self.h}_{{t-1}}", c_prev=f"{self.c}_{{t-1}}", c=f"{self.c}_t"
        )

    def io(self, letter: str, time: str) -> str:
        """An input's or output's symbol in the picture's markup: ``h_{t-1}``, ``C_{t}``."""
        return f"{letter}_{{{time}}}"

    def tooltip(self, template: str) -> str:
        """A template of the cell table in plain symbols: ``f_t ⊙ c_{t-1}``."""
        return fill(template, self.plain, PLAIN)[0]

    def equation(self, state: str) -> str:
        """``c_t = f_t ⊙ c_{t-1} + i_t ⊙ candidate``."""
        update = self.convention.update(state)
        return f"{update.symbol} = {self.tooltip(update.template)}"

    def term(self, state: str, slot: str) -> str:
        """The term of ``state``'s update that reads ``slot``, in plain symbols."""
        return self.tooltip(self.convention.update(state).term_with(slot))

    @property
    def step_input(self) -> tuple[str, str]:
        """``x_t``'s shape text: the input without its time axis, and the tensor's key."""
        return format_shape(self.cell.step_shape), self.cell.step_input.name

    def weight_lines(self, gate: GateView | None) -> list[TextLine]:
        """One line per weight of ``gate`` (the whole weights for a gateless cell)."""
        letter = gate.spec.letter if gate is not None else ""
        return [
            self._weight_line(self.convention.weight_symbol(slot, letter, MATH), tensor)
            for slot, tensor in self.cell.weight_slots(gate).items()
        ]

    def gate(self, role: str) -> Gate:
        view = self.cell.gate(role)
        spec = view.spec
        key = view.tensor.name
        title = math_line(
            f"{spec.activation} {spec.title} {MATH.symbol(spec.symbol, 't')}", bold=True, keys=(key,)
        )
        lines = [math_line(self.preactivation(view), keys=(key,)), *self.weight_lines(view)]
        return Gate(spec.letter, spec.activation, title, tuple(lines), view.tensor)

    def rnn_box(self) -> tuple[TextLine, ...]:
        hidden = self.cell.hidden_state
        title = math_line(
            f"{self.convention.activation} {MATH.symbol(self.h, 't')}", bold=True, keys=(hidden.name,)
        )
        return (title, math_line(self.preactivation(None)), *self.weight_lines(None))

    def _weight_line(self, symbol: str, tensor: Tensor) -> TextLine:
        shape = format_shape(tensor.shape)
        keys = (tensor.name,) + ((tensor.slice_of,) if tensor.slice_of else ())
        return math_line(symbol, f" {shape}", keys=keys, tooltip=f"{tensor.name} {shape}")

    def preactivation(self, gate: GateView | None) -> str:
        """What the gate's activation is applied to: the cell table's template, in the
        picture's notation."""
        cell = self.cell
        letter = gate.spec.letter if gate is not None else ""
        slots = list(cell.weight_slots(gate))
        if cell.split_bias:
            slots = [slot for slot in slots if slot != "b"] + ["b_x", "b_h"]
        values = {slot: self.convention.weight_symbol(slot, letter, MATH) for slot in slots}
        values.update(x=MATH.symbol(self.x, "t"), h=MATH.symbol(self.h, "t-1"))
        if cell.cell_state is not None:  # ONNX peepholes read the cell state
            values.update(c_prev=MATH.symbol(self.c, "t-1"), c=MATH.symbol(self.c, "t"))
        values.update({g.spec.role: MATH.symbol(g.spec.symbol, "t") for g in cell.gates})
        if gate is None:
            return fill(self.convention.template, values, self.notation)[0]
        return fill(gate.spec.preactivation(cell.reset_after), values, self.notation)[0]


def cell_diagram(result: LayerResult) -> tuple[Grid, list[Route]]:
    """The grid cells and routes that draw ``result``'s recurrent cell."""
    parts = CellParts(result)
    grid: Grid = {}
    routes: list[Route] = []
    if parts.cell.cell_state is not None:
        last_gate = _lstm(parts, grid, routes)
    elif parts.cell.gates:
        last_gate = _gru(parts, grid, routes)
    else:
        last_gate = _rnn(parts, grid, routes)
    _buses(parts, grid, routes, last_gate)
    return grid, routes


def _shape_label(tensor: Tensor, tooltip: str = "", keyed: bool = True) -> Cell:
    shape = format_shape(tensor.shape)
    keys = (tensor.name,) if keyed else ()
    return Cell("label", shape_lines(shape), keys=keys, tooltip=tooltip or f"{tensor.name} {shape}")


def _io(symbol: str, tensor: Tensor, what: str) -> Cell:
    shape = format_shape(tensor.shape)
    return Cell("io", (math_line(symbol),), keys=(tensor.name,), tooltip=f"{what}: {tensor.name} {shape}")


def _gate_cell(gate: Gate) -> Cell:
    style = "sigmoid" if gate.activation == SIGMOID else "tanh"
    return Cell("gate", (gate.title, *gate.lines), keys=(gate.tensor.name,), style=style)


def _op(symbol: str, tooltip: str) -> Cell:
    return Cell("op", (plain_line(symbol),), tooltip=tooltip)


def _lstm(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    forget, inp, cand, out = (parts.gate(role) for role in ("forget", "input", "candidate", "output"))
    cell_state, hidden = parts.cell.cell_state, parts.cell.hidden_state
    assert cell_state is not None
    projection = parts.cell.projection
    end = 14 if projection else 12
    c_key = (cell_state.name,)
    kept, added = parts.term("cell_state", "c_prev"), parts.term("cell_state", "candidate")
    output = parts.tooltip(parts.convention.update("hidden_state").template)
    squashed = f"tanh({parts.c}_t)"
    grid[(0, 0)] = _io(parts.io(parts.c, "t-1"), cell_state, "previous cell state")
    grid[(0, 1)] = _shape_label(cell_state)
    grid[(0, 2)] = _op("×", kept)
    grid[(0, 4)] = _shape_label(forget.tensor, kept, keyed=False)
    grid[(0, 5)] = _op("+", parts.equation("cell_state"))
    grid[(0, 6)] = _shape_label(cell_state)
    grid[(0, 8)] = Cell("junction", keys=c_key)
    grid[(1, 5)] = _shape_label(inp.tensor, added, keyed=False)
    grid[(1, 8)] = _shape_label(cell_state)
    grid[(2, 5)] = _op("×", added)
    grid[(2, 8)] = _op("tanh", squashed)
    grid[(2, 9)] = _shape_label(cell_state, squashed, keyed=False)
    grid[(2, 10)] = _op("×", output)
    grid[(0, end)] = _io(parts.io(parts.c, "t"), cell_state, "new cell state")
    grid[(2, end)] = _io(parts.io(parts.h, "t"), hidden, "new hidden state (the step's output)")
    for col, gate in ((2, forget), (4, inp), (6, cand), (10, out)):
        grid[(4, col)] = _gate_cell(gate)
        grid[(3, col)] = _shape_label(gate.tensor)
    routes += [
        Route(((0, 0), (0, 1), (0, 2)), c_key),
        Route(((0, 2), (0, 4), (0, 5)), tooltip=kept),
        Route(((4, 2), (3, 2), (0, 2)), (forget.tensor.name,)),
        Route(((4, 4), (3, 4), (2, 4), (2, 5)), (inp.tensor.name,)),
        Route(((4, 6), (3, 6), (2, 6), (2, 5)), (cand.tensor.name,)),
        Route(((2, 5), (1, 5), (0, 5)), tooltip=added),
        Route(((0, 5), (0, 6), (0, 8), (0, end)), c_key),
        Route(((0, 8), (1, 8), (2, 8)), c_key),
        Route(((2, 8), (2, 9), (2, 10)), tooltip=squashed),
        Route(((4, 10), (3, 10), (2, 10)), (out.tensor.name,)),
    ]
    if projection is None:
        grid[(2, 11)] = _shape_label(hidden)
        routes.append(Route(((2, 10), (2, 11), (2, 12)), (hidden.name,)))
    else:
        shape = format_shape(projection.shape)
        title = math_line("projection", bold=True, keys=(projection.name,))
        symbol = MATH.symbol("W", "hr")
        weight = math_line(symbol, f" {shape}", keys=(projection.name,), tooltip=f"{projection.name} {shape}")
        symbols = {
            "W_hr": symbol,
            "output": MATH.symbol(parts.cell.gate("output").spec.symbol, "t"),
            "c": MATH.symbol("c", "t"),
        }
        projected = math_line(fill(parts.convention.projected, symbols, MATH)[0])
        grid[(2, 11)] = _shape_label(out.tensor, f"{output}, before the projection", keyed=False)
        grid[(2, 12)] = Cell("gate", (title, projected, weight), style="proj")
        grid[(2, 13)] = _shape_label(hidden)
        routes.append(Route(((2, 10), (2, 11), (2, 12)), tooltip=output))
        routes.append(Route(((2, 12), (2, 13), (2, 14)), (hidden.name,)))
    return 10


def _gru(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    update, reset, cand = (parts.gate(role) for role in ("update", "reset", "candidate"))
    hidden = parts.cell.hidden_state
    h_key = (hidden.name,)
    z_key = (update.tensor.name,)
    kept, added = parts.term("hidden_state", "h_prev"), parts.term("hidden_state", "candidate")
    complement = f"1 − {parts.plain['update']}"
    grid[(0, 1)] = _shape_label(hidden)
    grid[(0, 2)] = _op("×", kept)
    grid[(0, 3)] = _shape_label(update.tensor, kept, keyed=False)
    grid[(0, 5)] = _op("+", parts.equation("hidden_state"))
    grid[(0, 6)] = _shape_label(hidden)
    grid[(0, 7)] = _io(parts.io(parts.h, "t"), hidden, "new hidden state (the step's output)")
    grid[(1, 5)] = _shape_label(cand.tensor, added, keyed=False)
    grid[(2, 2)] = Cell("junction", keys=z_key)
    grid[(2, 3)] = _op("1−", complement)
    grid[(2, 4)] = _shape_label(update.tensor, complement, keyed=False)
    grid[(2, 5)] = _op("×", added)
    grid[(4, 5)] = _shape_label(reset.tensor)
    for col, gate in ((2, update), (4, reset), (6, cand)):
        grid[(4, col)] = _gate_cell(gate)
    grid[(3, 2)] = _shape_label(update.tensor)
    grid[(3, 6)] = _shape_label(cand.tensor)
    routes += [
        Route(((6, 0), (0, 0), (0, 1), (0, 2)), h_key),
        Route(((4, 2), (3, 2), (2, 2), (0, 2)), z_key),
        Route(((2, 2), (2, 3)), z_key),
        Route(((2, 3), (2, 4), (2, 5)), tooltip=complement),
        Route(((4, 4), (4, 5), (4, 6)), (reset.tensor.name,)),
        Route(((4, 6), (3, 6), (2, 6), (2, 5)), (cand.tensor.name,)),
        Route(((2, 5), (1, 5), (0, 5)), tooltip=added),
        Route(((0, 2), (0, 3), (0, 5)), tooltip=kept),
        Route(((0, 5), (0, 6), (0, 7)), h_key),
    ]
    return 6


def _rnn(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    hidden = parts.cell.hidden_state
    grid[(4, 2)] = Cell("gate", parts.rnn_box(), keys=(hidden.name,), style="tanh")
    grid[(3, 2)] = _shape_label(hidden)
    grid[(2, 2)] = _io(parts.io(parts.h, "t"), hidden, "new hidden state (the step's output)")
    routes.append(Route(((4, 2), (3, 2), (2, 2)), (hidden.name,)))
    return 2


def _buses(parts: CellParts, grid: Grid, routes: list[Route], last_gate: int) -> None:
    """``h_{t-1}`` and ``x_t`` run along two buses under the gates and rise into each one."""
    hidden = parts.cell.hidden_state
    x_shape, x_key = parts.step_input
    grid[(6, 0)] = _io(parts.io(parts.h, "t-1"), hidden, "previous hidden state")
    grid[(6, 1)] = _shape_label(hidden)
    x_t = math_line(parts.io(parts.x, "t"))
    grid[(7, 0)] = Cell("io", (x_t,), keys=(x_key,), tooltip=f"one time step of the input: {x_shape}")
    grid[(7, 1)] = Cell("label", shape_lines(x_shape), keys=(x_key,), tooltip=f"{parts.x}_t {x_shape}")
    h_key, x_keys = (hidden.name,), (x_key,)
    routes.append(Route(((6, 0), (6, 1), (6, last_gate, -DROP)), h_key, arrow=False))
    routes.append(Route(((7, 0), (7, 1), (7, last_gate, DROP)), x_keys, arrow=False))
    gate_cols = sorted(col for (row, col), cell in grid.items() if row == 4 and cell.kind == "gate")
    for col in gate_cols:
        branch = col != last_gate
        h_drop: tuple[Anchor, ...] = ((6, col, -DROP), (4, col, -DROP))
        x_drop: tuple[Anchor, ...] = ((7, col, DROP), (4, col, DROP))
        routes.append(Route(h_drop, h_key, branch=branch))
        routes.append(Route(x_drop, x_keys, bridge=True, branch=branch))
