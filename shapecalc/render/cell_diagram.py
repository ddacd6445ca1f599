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

from shapecalc.dims import format_shape
from shapecalc.render.drawing import TextLine, math_line, plain_line, shape_lines
from shapecalc.render.grid_layout import Anchor, Cell, Route
from shapecalc.result import LayerResult, Tensor

#: Horizontal offset of the two bus drops under a gate (``h_{t-1}`` left, ``x_t`` right).
DROP = 14.0
Grid = dict[tuple[int, int], Cell]

_SYMBOLS = {"c": "c̃", "h": "h̃"}
#: Short gate names for the boxes (the table's meanings are longer).
_TITLES = {
    "i": "input gate",
    "f": "forget gate",
    "c": "candidate",
    "g": "candidate",
    "o": "output gate",
    "z": "update gate",
    "r": "reset gate",
    "h": "candidate",
    "n": "new gate",
}
_SIGMOID_GATES = set("ifozr")
#: Which letter plays which part, per convention (Keras i,f,c,o / z,r,h; PyTorch i,f,g,o / r,z,n).
_ROLES = {
    "ifco": {"input": "i", "forget": "f", "candidate": "c", "output": "o"},
    "ifgo": {"input": "i", "forget": "f", "candidate": "g", "output": "o"},
    "zrh": {"update": "z", "reset": "r", "candidate": "h"},
    "rzn": {"update": "z", "reset": "r", "candidate": "n"},
}


@dataclass(frozen=True)
class Gate:
    """One gate box: what it computes, its weights' lines and its output tensor."""

    letter: str
    title: TextLine
    lines: tuple[TextLine, ...]
    tensor: Tensor


class CellParts:
    """The tensors of one cell (the forward direction, layer 0) looked up by role."""

    def __init__(self, result: LayerResult) -> None:
        self.result = result
        self.torch = result.framework == "torch"
        self.conv = "ConvLSTM" in result.layer
        self.prefix = "forward/" if result.layer.startswith("Bidirectional") else ""
        self.gates = result.gate_order
        self.kind = {4: "lstm", 3: "gru", 0: "rnn"}[len(self.gates)]
        self.roles = _ROLES.get(self.gates, {})

    def find(self, name: str) -> Tensor | None:
        try:
            return self.result.tensor(self.prefix + name)
        except KeyError:
            return None

    def get(self, name: str) -> Tensor:
        tensor = self.find(name)
        if tensor is None:
            raise KeyError(self.prefix + name)
        return tensor

    @property
    def step_input(self) -> tuple[str, str]:
        """``x_t``'s shape text: the input without its time axis, and the tensor's key."""
        tensor = self.result.tensor("input")
        time_axis = 0 if self.torch and not self.result.config.get("batch_first") else 1
        step = tensor.shape[:time_axis] + tensor.shape[time_axis + 1 :]
        return format_shape(step), tensor.name

    def weight_names(self, letter: str) -> list[tuple[str, str]]:
        """(math symbol, tensor name) for a gate's weights; ``letter`` "" for SimpleRNN."""
        tail = f"_{letter}" if letter else ""
        if self.torch:
            gate = letter or "h"
            pairs = [(f"W_{{i{gate}}}", f"weight_ih_l0{tail}"), (f"W_{{h{gate}}}", f"weight_hh_l0{tail}")]
            pairs += [(f"b_{{i{gate}}}", f"bias_ih_l0{tail}"), (f"b_{{h{gate}}}", f"bias_hh_l0{tail}")]
        else:
            sub = f"_{{{letter}}}" if letter else ""
            pairs = [
                (f"W{sub}", f"kernel{tail}"),
                (f"U{sub}", f"recurrent_kernel{tail}"),
                (f"b{sub}", f"bias{tail}"),
            ]
        return [(symbol, name) for symbol, name in pairs if self.find(name) is not None]

    def gate(self, letter: str) -> Gate:
        activation = "σ" if letter in _SIGMOID_GATES else "tanh"
        meaning = _TITLES[letter]
        symbol = f"{_SYMBOLS.get(letter, letter)}_{{t}}"
        key = self.prefix + f"gate_{letter}"
        title = math_line(f"{activation} {meaning} {symbol}", bold=True, keys=(key,))
        lines = [math_line(self.preactivation(letter), keys=(key,))]
        lines += [self._weight_line(symbol_, name) for symbol_, name in self.weight_names(letter)]
        return Gate(letter, title, tuple(lines), self.get(f"gate_{letter}"))

    def rnn_box(self) -> tuple[TextLine, ...]:
        title = math_line("tanh h_{t}", bold=True, keys=(self.prefix + "hidden_state",))
        lines = [math_line(self.preactivation(""))]
        lines += [self._weight_line(symbol, name) for symbol, name in self.weight_names("")]
        return (title, *lines)

    def _weight_line(self, symbol: str, name: str) -> TextLine:
        tensor = self.get(name)
        shape = format_shape(tensor.shape)
        keys = (tensor.name,) + ((tensor.slice_of,) if tensor.slice_of else ())
        return math_line(symbol, f" {shape}", keys=keys, tooltip=f"{tensor.name} {shape}")

    def preactivation(self, letter: str) -> str:
        """What the gate's activation is applied to, in the framework's own notation."""
        has_bias = any(name.startswith("bias") for _, name in self.weight_names(letter))
        op = "*" if self.conv else "·"
        if self.torch:
            gate = letter or "h"
            x_part = f"W_{{i{gate}}}x_{{t}}" + (f" + b_{{i{gate}}}" if has_bias else "")
            h_part = f"W_{{h{gate}}}h_{{t-1}}" + (f" + b_{{h{gate}}}" if has_bias else "")
            if letter == "n":
                return f"{x_part} + r_{{t}}⊙({h_part})"
            return f"{x_part} + {h_part}"
        sub = f"_{{{letter}}}" if letter else ""
        bias = f" + b{sub}" if has_bias else ""
        if letter == "h" and self.result.config.get("reset_after"):
            return f"x_{{t}}{op}W{sub} + r_{{t}}⊙(h_{{t-1}}{op}U{sub}){bias}"
        if letter == "h":
            return f"x_{{t}}{op}W{sub} + (r_{{t}}⊙h_{{t-1}}){op}U{sub}{bias}"
        return f"x_{{t}}{op}W{sub} + h_{{t-1}}{op}U{sub}{bias}"


def cell_diagram(result: LayerResult) -> tuple[Grid, list[Route]]:
    """The grid cells and routes that draw ``result``'s recurrent cell."""
    parts = CellParts(result)
    grid: Grid = {}
    routes: list[Route] = []
    if parts.kind == "lstm":
        last_gate = _lstm(parts, grid, routes)
    elif parts.kind == "gru":
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
    style = "sigmoid" if gate.letter in _SIGMOID_GATES else "tanh"
    return Cell("gate", (gate.title, *gate.lines), keys=(gate.tensor.name,), style=style)


def _op(symbol: str, tooltip: str) -> Cell:
    return Cell("op", (plain_line(symbol),), tooltip=tooltip)


def _lstm(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    roles = parts.roles
    forget, inp, cand, out = (parts.gate(roles[r]) for r in ("forget", "input", "candidate", "output"))
    cell_state, hidden = parts.get("cell_state"), parts.get("hidden_state")
    projection = parts.find("weight_hr_l0") if parts.torch else None
    end = 14 if projection else 12
    c_key = (cell_state.name,)
    grid[(0, 0)] = _io("c_{t-1}", cell_state, "previous cell state")
    grid[(0, 1)] = _shape_label(cell_state)
    grid[(0, 2)] = _op("×", "f_t ⊙ c_{t-1}")
    grid[(0, 4)] = _shape_label(forget.tensor, "f_t ⊙ c_{t-1}", keyed=False)
    grid[(0, 5)] = _op("+", "c_t = f_t ⊙ c_{t-1} + i_t ⊙ candidate")
    grid[(0, 6)] = _shape_label(cell_state)
    grid[(0, 8)] = Cell("junction", keys=c_key)
    grid[(1, 5)] = _shape_label(inp.tensor, "i_t ⊙ candidate", keyed=False)
    grid[(1, 8)] = _shape_label(cell_state)
    grid[(2, 5)] = _op("×", "i_t ⊙ candidate")
    grid[(2, 8)] = _op("tanh", "tanh(c_t)")
    grid[(2, 9)] = _shape_label(cell_state, "tanh(c_t)", keyed=False)
    grid[(2, 10)] = _op("×", "o_t ⊙ tanh(c_t)")
    grid[(0, end)] = _io("c_{t}", cell_state, "new cell state")
    grid[(2, end)] = _io("h_{t}", hidden, "new hidden state (the step's output)")
    for col, gate in ((2, forget), (4, inp), (6, cand), (10, out)):
        grid[(4, col)] = _gate_cell(gate)
        grid[(3, col)] = _shape_label(gate.tensor)
    routes += [
        Route(((0, 0), (0, 1), (0, 2)), c_key),
        Route(((0, 2), (0, 4), (0, 5)), tooltip="f_t ⊙ c_{t-1}"),
        Route(((4, 2), (3, 2), (0, 2)), (forget.tensor.name,)),
        Route(((4, 4), (3, 4), (2, 4), (2, 5)), (inp.tensor.name,)),
        Route(((4, 6), (3, 6), (2, 6), (2, 5)), (cand.tensor.name,)),
        Route(((2, 5), (1, 5), (0, 5)), tooltip="i_t ⊙ candidate"),
        Route(((0, 5), (0, 6), (0, 8), (0, end)), c_key),
        Route(((0, 8), (1, 8), (2, 8)), c_key),
        Route(((2, 8), (2, 9), (2, 10)), tooltip="tanh(c_t)"),
        Route(((4, 10), (3, 10), (2, 10)), (out.tensor.name,)),
    ]
    if projection is None:
        grid[(2, 11)] = _shape_label(hidden)
        routes.append(Route(((2, 10), (2, 11), (2, 12)), (hidden.name,)))
    else:
        shape = format_shape(projection.shape)
        title = math_line("projection", bold=True, keys=(projection.name,))
        weight = math_line(
            "W_{hr}", f" {shape}", keys=(projection.name,), tooltip=f"{projection.name} {shape}"
        )
        grid[(2, 11)] = _shape_label(out.tensor, "o_t ⊙ tanh(c_t), before the projection", keyed=False)
        grid[(2, 12)] = Cell("gate", (title, math_line("W_{hr}(o_{t}⊙tanh(c_{t}))"), weight), style="proj")
        grid[(2, 13)] = _shape_label(hidden)
        routes.append(Route(((2, 10), (2, 11), (2, 12)), tooltip="o_t ⊙ tanh(c_t)"))
        routes.append(Route(((2, 12), (2, 13), (2, 14)), (hidden.name,)))
    return 10


def _gru(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    roles = parts.roles
    update, reset, cand = (parts.gate(roles[r]) for r in ("update", "reset", "candidate"))
    hidden = parts.get("hidden_state")
    h_key = (hidden.name,)
    z_key = (update.tensor.name,)
    grid[(0, 1)] = _shape_label(hidden)
    grid[(0, 2)] = _op("×", "z_t ⊙ h_{t-1}")
    grid[(0, 3)] = _shape_label(update.tensor, "z_t ⊙ h_{t-1}", keyed=False)
    grid[(0, 5)] = _op("+", "h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ candidate")
    grid[(0, 6)] = _shape_label(hidden)
    grid[(0, 7)] = _io("h_{t}", hidden, "new hidden state (the step's output)")
    grid[(1, 5)] = _shape_label(cand.tensor, "(1 − z_t) ⊙ candidate", keyed=False)
    grid[(2, 2)] = Cell("junction", keys=z_key)
    grid[(2, 3)] = _op("1−", "1 − z_t")
    grid[(2, 4)] = _shape_label(update.tensor, "1 − z_t", keyed=False)
    grid[(2, 5)] = _op("×", "(1 − z_t) ⊙ candidate")
    grid[(4, 5)] = _shape_label(reset.tensor)
    for col, gate in ((2, update), (4, reset), (6, cand)):
        grid[(4, col)] = _gate_cell(gate)
    grid[(3, 2)] = _shape_label(update.tensor)
    grid[(3, 6)] = _shape_label(cand.tensor)
    routes += [
        Route(((6, 0), (0, 0), (0, 1), (0, 2)), h_key),
        Route(((4, 2), (3, 2), (2, 2), (0, 2)), z_key),
        Route(((2, 2), (2, 3)), z_key),
        Route(((2, 3), (2, 4), (2, 5)), tooltip="1 − z_t"),
        Route(((4, 4), (4, 5), (4, 6)), (reset.tensor.name,)),
        Route(((4, 6), (3, 6), (2, 6), (2, 5)), (cand.tensor.name,)),
        Route(((2, 5), (1, 5), (0, 5)), tooltip="(1 − z_t) ⊙ candidate"),
        Route(((0, 2), (0, 3), (0, 5)), tooltip="z_t ⊙ h_{t-1}"),
        Route(((0, 5), (0, 6), (0, 7)), h_key),
    ]
    return 6


def _rnn(parts: CellParts, grid: Grid, routes: list[Route]) -> int:
    hidden = parts.get("hidden_state")
    grid[(4, 2)] = Cell("gate", parts.rnn_box(), keys=(hidden.name,), style="tanh")
    grid[(3, 2)] = _shape_label(hidden)
    grid[(2, 2)] = _io("h_{t}", hidden, "new hidden state (the step's output)")
    routes.append(Route(((4, 2), (3, 2), (2, 2)), (hidden.name,)))
    return 2


def _buses(parts: CellParts, grid: Grid, routes: list[Route], last_gate: int) -> None:
    """``h_{t-1}`` and ``x_t`` run along two buses under the gates and rise into each one."""
    hidden = parts.get("hidden_state")
    x_shape, x_key = parts.step_input
    grid[(6, 0)] = _io("h_{t-1}", hidden, "previous hidden state")
    grid[(6, 1)] = _shape_label(hidden)
    grid[(7, 0)] = Cell(
        "io", (math_line("x_{t}"),), keys=(x_key,), tooltip=f"one time step of the input: {x_shape}"
    )
    grid[(7, 1)] = Cell("label", shape_lines(x_shape), keys=(x_key,), tooltip=f"x_t {x_shape}")
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
