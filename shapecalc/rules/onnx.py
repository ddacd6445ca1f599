"""ONNX rules: the ``LSTM``, ``GRU`` and ``RNN`` operators.

Names follow the operator's inputs and outputs: ``X``, ``W``, ``R``, ``B``,
``initial_h``, ``initial_c``, ``P``, ``Y``, ``Y_h``, ``Y_c``. Every weight keeps all
directions on axis 0 (``num_directions``) and the gates stacked on axis 1; each
gate's slice has the spec's name (``Wi``, ``Rbf``, ``Po``; the backward
direction's ``WBi``, ``RBbf``, ``PBo``).

>>> from shapecalc.configs import OnnxRecurrentConfig
>>> result = onnx_recurrent(OnnxRecurrentConfig(cell="lstm", hidden_size=32, input_size=20))
>>> result.tensor("W").shape, result.tensor("Wo").index, result.tensor("Y").shape
((1, 128, 20), '[0, 32:64]', (Expr('timestep'), 1, Expr('batch'), 32))
"""

from __future__ import annotations

from shapecalc.cells import CELLS, Convention
from shapecalc.configs import OnnxRecurrentConfig
from shapecalc.dims import Dim, product
from shapecalc.result import LayerResult, Tensor
from shapecalc.rules.common import gate_tensors, layer_result
from shapecalc.views import CellView, GateView

#: The peephole input ``P`` holds the i, o and f gates, in that order.
PEEPHOLE_GATES = "iof"


def _weight(name: str, shape: tuple[Dim, ...], description: str) -> Tensor:
    return Tensor(name, "weight", shape, params=product(shape), description=description)


class _Weights:
    """``W``, ``R``, ``B`` and ``P`` of one node, each followed by its slices in stored order.

    A gate's slices are ``[direction, start:stop]``; a gateless RNN has one slice of
    ``W`` and ``R`` per direction, ``[direction]``.
    """

    def __init__(self, config: OnnxRecurrentConfig, convention: Convention, directions: tuple[str, ...]):
        self.hidden = hidden = config.hidden_size
        self.directions = directions
        self.gates = convention.gates
        self.letters = [gate.letter for gate in convention.gates] or [""]
        self.stacked: Dim = len(self.letters) * hidden
        nd, size = len(directions), config.input_size
        #: (direction, gate letter, slot) -> the slice; slots as the cell table's weight_slots
        self.parts: dict[tuple[int, str, str], Tensor] = {}
        self.W = _weight("W", (nd, self.stacked, size), "input weights W")
        self.R = _weight("R", (nd, self.stacked, hidden), "recurrent weights R")
        self.tensors = [self.W, *self._gate_slices("W", "W", (hidden, size))]
        self.tensors += [self.R, *self._gate_slices("R", "R", (hidden, hidden))]
        self.B = self.P = None
        if config.use_bias:
            self.B = _weight("B", (nd, 2 * self.stacked), "biases: Wb, then Rb")
            self.tensors.append(self.B)
            for d in range(nd):
                self.tensors += self._gate_slices("Wb", "B", (hidden,), d, 0)
                self.tensors += self._gate_slices("Rb", "B", (hidden,), d, self.stacked)
        self.peephole_tensors: list[Tensor] = []
        if config.peepholes:
            self.P = _weight("P", (nd, len(PEEPHOLE_GATES) * hidden), "peephole weights (i, o, f)")
            self.peephole_tensors = [self.P]
            for d in range(nd):
                for at, letter in enumerate(PEEPHOLE_GATES):
                    self.peephole_tensors.append(self._slice("P", "P", d, letter, (hidden,), at * hidden))

    def _gate_slices(self, slot: str, of: str, shape: tuple[Dim, ...], only: int | None = None,
                     offset: Dim = 0) -> list[Tensor]:  # fmt: skip
        directions = range(len(self.directions)) if only is None else (only,)
        return [
            self._slice(slot, of, d, letter, shape, offset + k * self.hidden)
            for d in directions
            for k, letter in enumerate(self.letters)
        ]

    def _slice(self, slot: str, of: str, d: int, letter: str, shape: tuple[Dim, ...], start: Dim) -> Tensor:
        # The spec's names: Wi, Rbf, Po; WBi, RBbf, PBo for the backward direction; RNN's is Wi.
        name = slot[0] + ("B" if d else "") + slot[1:] + (letter or "i")
        if letter:
            meaning = next(gate.meaning for gate in self.gates if gate.letter == letter)
            what = f"{meaning} part of {of}"
        else:
            what = f"{self.directions[d]} direction of {of}"
        if letter or of in ("B", "P"):
            index = f"[{d}, {start}:{start + self.hidden}]"
        else:
            index = f"[{d}]"
        if of == "B":
            what += f" ({slot})"
        if len(self.directions) > 1 and letter:
            what += f", {self.directions[d]}"
        tensor = Tensor(
            name, "weight_slice", shape, description=what, slice_of=of, gate=letter or None, index=index
        )
        self.parts[(d, letter, slot)] = tensor
        return tensor

    def slots(self, d: int, letter: str) -> tuple[Tensor | None, ...]:
        """Direction ``d``'s slices for gate ``letter``: W, R, Wb, Rb, P (None where absent)."""
        return tuple(self.parts.get((d, letter, slot)) for slot in ("W", "R", "Wb", "Rb", "P"))


def onnx_recurrent(config: OnnxRecurrentConfig) -> LayerResult:
    """The inputs, attributes' effects and outputs of one ONNX recurrent node."""
    spec = CELLS[config.cell]
    onnx = spec.onnx
    hidden, batch, steps = config.hidden_size, config.batch, config.timesteps
    if config.direction == "bidirectional":
        directions: tuple[str, ...] = ("forward", "backward")
    else:
        directions = (config.direction,)
    nd = len(directions)
    batch_first = config.layout == 1
    lstm = config.cell == "lstm"

    def per_direction() -> tuple[Dim, ...]:
        return (batch, nd, hidden) if batch_first else (nd, batch, hidden)

    x_shape = (batch, steps, config.input_size) if batch_first else (steps, batch, config.input_size)
    source = Tensor("X", "input", x_shape, description="input sequence X")
    weights = _Weights(config, onnx, directions)
    initial = [Tensor("initial_h", "input", per_direction(), description="initial H (optional, 0)")]
    if lstm:
        initial.append(Tensor("initial_c", "input", per_direction(), description="initial C (optional, 0)"))
    gates = gate_tensors(onnx, (batch, hidden))
    states = [Tensor("hidden_state", "state", (batch, hidden), description="H_t of one direction")]
    if lstm:
        states.append(Tensor("cell_state", "state", (batch, hidden), description="C_t of one direction"))
    y_shape = (batch, steps, nd, hidden) if batch_first else (steps, nd, batch, hidden)
    output = Tensor("Y", "output", y_shape, description="H_t of every step and direction")
    final = [Tensor("Y_h", "output", per_direction(), description="last H_t of each direction")]
    if lstm:
        final.append(Tensor("Y_c", "output", per_direction(), description="last C_t of each direction"))
    tensors = [source, *weights.tensors, *initial, *weights.peephole_tensors, *gates, *states, output, *final]

    cells = []
    for d, direction in enumerate(directions):
        views = tuple(
            GateView(gate, tensor, *weights.slots(d, gate.letter))  # type: ignore[arg-type]
            for gate, tensor in zip(onnx.gates, gates, strict=True)
        )
        whole = (weights.W, weights.R, weights.B, None) if onnx.gates else weights.slots(d, "")[:4]
        cells.append(
            CellView(
                layer=0,
                direction=direction,
                spec=spec,
                convention=onnx,
                step_input=source,
                time_axis=1 if batch_first else 0,
                kernel=whole[0],  # type: ignore[arg-type]
                recurrent_kernel=whole[1],  # type: ignore[arg-type]
                bias=whole[2],
                recurrent_bias=whole[3],
                projection=None,
                gates=views,
                states=tuple(states),
                output=output,
                final_states=tuple(final),
                reset_after=config.cell == "gru" and config.linear_before_reset,
                peepholes=weights.P,
            )
        )
    outputs = (output.name, *(t.name for t in final))
    return layer_result(onnx.layer_class, config, tensors, outputs, cells, notes=_notes(config, onnx))


def _notes(config: OnnxRecurrentConfig, onnx: Convention) -> tuple[str, ...]:
    count = max(len(onnx.gates), 1)
    many = f"{count}*hidden_size" if count > 1 else "hidden_size"
    both = f"{2 * count}*hidden_size"
    notes = []
    if onnx.gates:
        notes.append(
            f"ONNX gate order: {', '.join(onnx.order)}; W is [num_directions, {many}, input_size], "
            "the gates stacked on axis 1."
        )
    if config.use_bias:
        notes.append(f"B is [num_directions, {both}]: Wb, then Rb.")
    if config.cell == "gru":
        notes.append(
            "linear_before_reset=1: r_t scales the recurrent product, like Keras reset_after=True."
            if config.linear_before_reset
            else "linear_before_reset=0 (the spec's default): r_t scales H_{t-1} before the product with R."
        )
    if config.layout == 1:
        notes.append("layout 1: X, the initial states and Y, Y_h, Y_c are batch first.")
    return tuple(notes)
