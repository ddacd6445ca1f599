"""The equations of one time step, each operand with the shape the engine derived.

Every operand names the tensor of the :class:`~shapecalc.result.LayerResult` it
is (``W_i`` is ``kernel_i``, ``h_{t-1}`` is ``hidden_state``) and takes its
shape from that tensor, read from the result's cell views; the one-step input
``x_t`` is the ``input`` tensor indexed at one time step (``index`` says how).
The equations are the cell table's templates (:mod:`shapecalc.cells`), filled
in plain notation. Nothing here computes a size.

>>> from shapecalc.api import shapes
>>> step = shapes("lstm", units=32, input_dim=20, explain=True).explanation.steps[1]
>>> step.equation
'i_t = σ(x_t · W_i + h_{t-1} · U_i + b_i)'
>>> [(o.symbol, o.shape) for o in step.operands][:2], step.result.shape
([('x_t', (Expr('batch'), 20)), ('W_i', (20, 32))], (Expr('batch'), 32))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapecalc.cells import PLAIN, SIGMOID, TANH, fill
from shapecalc.configs import (
    ConvRecurrentConfig,
    LayerConfig,
    OnnxRecurrentConfig,
    RecurrentConfig,
    TorchRecurrentConfig,
)
from shapecalc.dims import Dim, format_shape, to_json
from shapecalc.record import record
from shapecalc.result import LayerResult, Tensor
from shapecalc.views import CellView, GateView


@record
class Operand:
    """A symbol in an equation and the engine tensor it stands for.

    ``index`` is empty when the operand is the whole tensor, else the part of
    it the operand is (``[:, t]``: one time step; ``[0]``: the first row).
    """

    symbol: str
    tensor: str
    shape: tuple[Dim, ...]
    index: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "symbol": self.symbol,
            "tensor": self.tensor,
            "shape": [to_json(d) for d in self.shape],
        }
        if self.index:
            out["index"] = self.index
        return out

    def annotation(self) -> str:
        """``x_t: (batch, 20)``."""
        return f"{self.symbol}: {format_shape(self.shape)}"


@record
class Step:
    """One equation: its text, its operands in reading order, and its result."""

    equation: str
    operands: tuple[Operand, ...]
    result: Operand

    def to_json(self) -> dict[str, Any]:
        return {
            "equation": self.equation,
            "operands": [o.to_json() for o in self.operands],
            "result": self.result.to_json(),
        }


@record
class Explanation:
    """The steps of one time step of one cell, and notes on reading them."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps], "explain_notes": list(self.notes)}


def _whole(symbol: str, tensor: Tensor) -> Operand:
    return Operand(symbol, tensor.name, tensor.shape)


def _part(symbol: str, tensor: Tensor, axis: int, at: str) -> Operand:
    """``tensor``'s entry ``at`` on ``axis`` (``[:, t]``: one time step; ``[0]``: the first row)."""
    index = "[" + ", ".join([":"] * axis + [at]) + "]"
    return Operand(symbol, tensor.name, tensor.shape[:axis] + tensor.shape[axis + 1 :], index)


def explain_layer(result: LayerResult, config: LayerConfig) -> Explanation:
    """The per-timestep equations of ``result``'s layer (the first layer and direction)."""
    if isinstance(config, TorchRecurrentConfig):
        return _torch(result, config)
    if isinstance(config, OnnxRecurrentConfig):
        return _onnx(result, config)
    return _keras(result, config)


def _step(result: Operand, equation: str, *operands: Operand) -> Step:
    return Step(f"{result.symbol} = {equation}", operands, result)


def _activations(config: LayerConfig) -> dict[str, str]:
    """The cell table's default activations (``σ``, ``tanh``) the layer replaces, by its own names:
    a Keras ``activation``/``recurrent_activation``, a PyTorch ``nonlinearity``.

    >>> from shapecalc.configs import RecurrentConfig
    >>> _activations(RecurrentConfig(cell="lstm", units=2, input_dim=3, recurrent_activation="hard_sigmoid"))
    {'σ': 'hard_sigmoid'}
    """
    if isinstance(config, TorchRecurrentConfig):
        return {TANH: config.nonlinearity} if config.nonlinearity != "tanh" else {}
    if isinstance(config, OnnxRecurrentConfig):
        return {}  # ONNX writes f, g, h and names them in a note
    chosen = {
        TANH: (getattr(config, "activation", "tanh"), "tanh"),
        SIGMOID: (getattr(config, "recurrent_activation", "sigmoid"), "sigmoid"),
    }
    return {default: name for default, (name, keras_default) in chosen.items() if name != keras_default}


def _cell_steps(
    cell: CellView, x: Operand, h_prev: Operand, activations: Mapping[str, str] | None = None
) -> list[Step]:
    """The gates' steps and the state updates of one cell, from the cell table's templates;
    ``activations`` replaces the table's default functions (see :func:`_activations`)."""
    renamed = dict(activations or {})
    notation = PLAIN.convolved() if cell.convolution is not None else PLAIN
    convention = cell.convention
    _, h_letter, c_letter = convention.state_symbols
    results = {
        gate.spec.role: _whole(PLAIN.symbol(gate.spec.symbol, "t"), gate.tensor) for gate in cell.gates
    }
    values: dict[str, Operand] = {"x": x, "h": h_prev, "h_prev": h_prev, **results}
    if cell.cell_state is not None:  # ONNX peepholes read them in the gates
        values["c_prev"] = _whole(f"{c_letter}_{{t-1}}", cell.cell_state)
        values["c"] = _whole(f"{c_letter}_t", cell.cell_state)

    def step(result: Operand, template: str, operands: Mapping[str, Operand], activation: str = "") -> Step:
        text, used = fill(template, {slot: o.symbol for slot, o in operands.items()}, notation)
        return _step(
            result, f"{activation}({text})" if activation else text, *(operands[slot] for slot in used)
        )

    if not cell.gates:
        operands = {**values, **_weights(cell, None)}
        hidden = _whole(f"{h_letter}_t", cell.hidden_state)
        function = convention.function or renamed.get(convention.activation, convention.activation)
        return [step(hidden, convention.template, operands, function)]
    steps = []
    for gate in cell.gates:
        template = gate.spec.preactivation(cell.reset_after)
        function = gate.spec.function or renamed.get(gate.spec.activation, gate.spec.activation)
        steps.append(step(results[gate.spec.role], template, {**values, **_weights(cell, gate)}, function))
    for equation in convention.updates:
        state = cell.cell_state if equation.state == "cell_state" else cell.hidden_state
        assert state is not None
        template = equation.template
        if equation.state == "hidden_state" and cell.projection is not None:
            template = convention.projected
            values["W_hr"] = _whole(PLAIN.symbol("W", "hr"), cell.projection)
        if TANH in renamed:  # h_t = o ⊙ tanh(c_t): the layer's activation
            template = template.replace(f"{TANH}(", f"{renamed[TANH]}(")
        steps.append(step(_whole(equation.symbol, state), template, values))
    return steps


def _weights(cell: CellView, gate: GateView | None) -> dict[str, Operand]:
    """A gate's weight operands by slot (the whole weights for a gateless cell)."""
    letter = gate.spec.letter if gate is not None else ""
    slots = cell.weight_slots(gate)
    if cell.split_bias:
        # Keras 3 GRU: bias row 0 joins the input product, row 1 the recurrent product.
        bias = slots.pop("b")
        rows = {"b_x": "0", "b_h": "1"}
        return {
            **{
                slot: _whole(cell.convention.weight_symbol(slot, letter, PLAIN), t)
                for slot, t in slots.items()
            },
            **{
                slot: _part(cell.convention.weight_symbol(slot, letter, PLAIN), bias, 0, row)
                for slot, row in rows.items()
            },
        }
    return {slot: _whole(cell.convention.weight_symbol(slot, letter, PLAIN), t) for slot, t in slots.items()}


# ----------------------------------------------------------------------------------- Keras
def _keras(result: LayerResult, config: RecurrentConfig | ConvRecurrentConfig) -> Explanation:
    cell = result.cells[0]
    x = _part("x_t", cell.step_input, cell.time_axis, "t")
    h_prev = _whole("h_{t-1}", cell.hidden_state)
    steps = [_step(x, "x[:, t]", _whole("x", cell.step_input))]
    steps += _cell_steps(cell, x, h_prev, _activations(config))
    steps += _keras_output_steps(result.cells, config)
    return Explanation(tuple(steps), _keras_notes(config, result))


_MERGES = {
    "concat": "concat({a}, {b})",
    "sum": "{a} + {b}",
    "ave": "({a} + {b}) / 2",
    "mul": "{a} ⊙ {b}",
}


def _keras_output_steps(
    cells: tuple[CellView, ...], config: RecurrentConfig | ConvRecurrentConfig
) -> list[Step]:
    every_step = config.return_sequences
    last, first = ("t", "t") if every_step else ("T", "1")

    def output(tensor: Tensor) -> Operand:
        if every_step:
            return _part(f"{tensor.name}[:, t]", tensor, 1, "t")
        return _whole(tensor.name, tensor)

    if len(cells) == 1:
        return [_step(output(cells[0].output), f"h_{last}", _whole(f"h_{last}", cells[0].hidden_state))]
    forward_cell, backward_cell = cells
    forward = _whole(f"h_{last}^fwd", forward_cell.hidden_state)
    backward = _whole(f"h_{first}^bwd", backward_cell.hidden_state)
    if forward_cell.output is not backward_cell.output:
        return [
            _step(output(forward_cell.output), forward.symbol, forward),
            _step(output(backward_cell.output), backward.symbol, backward),
        ]
    merged = _MERGES[config.merge_mode].format(a=forward.symbol, b=backward.symbol)
    return [_step(output(forward_cell.output), merged, forward, backward)]


def _keras_notes(config: RecurrentConfig | ConvRecurrentConfig, result: LayerResult) -> tuple[str, ...]:
    cell = result.cells[0]
    states = "h_0 = c_0 = 0" if cell.cell_state is not None else "h_0 = 0"
    notes = [f"t = 1 … {config.timesteps}; {states} unless an initial state is given."]
    if cell.convolution is not None:
        convolution = cell.convolution
        notes.append(
            f"x_t * W is a convolution with strides {format_shape(convolution.strides)}, padding "
            f"'{convolution.padding}' and dilation {format_shape(convolution.dilation)}; h_{{t-1}} * U one "
            "with stride 1 and padding 'same', so the gates keep the output grid. ⊙ is element-wise."
        )
    else:
        notes.append("· is a matrix product, (batch, in) · (in, out); ⊙ is element-wise.")
    if cell.gates:
        notes.append(
            f"σ is the sigmoid, tanh the hyperbolic tangent; W_g, U_g and b_g are gate g's slices "
            f"of kernel, recurrent_kernel and bias (gate order {', '.join(result.gate_order)})."
        )
    if isinstance(config, RecurrentConfig) and config.cell == "gru":
        if config.reset_after:
            notes.append(
                "reset_after=True (Keras 3 default): r_t scales the recurrent product h_{t-1} · U_h; "
                "bias row 0 is the input bias, row 1 the recurrent bias."
            )
        else:
            notes.append("reset_after=False: r_t scales h_{t-1} before the recurrent product; one bias.")
    if config.bidirectional:
        notes.append(
            "backward/ runs the same equations on the reversed sequence (t = T … 1) "
            "with the backward/ tensors; ^fwd and ^bwd mark the two directions."
        )
    return tuple(notes)


# --------------------------------------------------------------------------------- PyTorch
#: Where a packed step's rows sit in ``PackedSequence`` data: ``N_t`` rows from offset ``S_t``.
_PACKED_ROWS = "[S_t:S_t+N_t]"


def _torch_time_index(config: TorchRecurrentConfig) -> str:
    """How one step is read from the input and written to the output (unbatched: ``[t]``)."""
    if config.lengths is not None:
        return "[:N_t, t]" if config.batch_first else "[t, :N_t]"
    return "[:, t]" if config.batch_first and not config.unbatched else "[t]"


def _packed_rows(symbol: str, tensor: Tensor, rows: tuple[Dim, ...]) -> Operand:
    """Rows ``S_t … S_t + N_t`` of ``PackedSequence`` data, shown at the first step (``rows``)."""
    return Operand(symbol, tensor.name, rows, _PACKED_ROWS)


def _torch(result: LayerResult, config: TorchRecurrentConfig) -> Explanation:
    cell = result.cells[0]
    at = _torch_time_index(config)
    if config.lengths is not None:
        # The padded input at step t, its first N_t rows: what the packed data holds for that step.
        x = Operand("x_t", cell.step_input.name, cell.step_shape, at)
    else:
        x = _part("x_t", cell.step_input, cell.time_axis, "t")
    h_prev = _whole("h_{t-1}", cell.hidden_state)
    steps = [_step(x, f"input{at}", _whole("input", cell.step_input))]
    steps += _cell_steps(cell, x, h_prev, _activations(config))
    steps += _torch_layer_and_output_steps(result.cells, config)
    return Explanation(tuple(steps), _torch_notes(config, result))


def _forward_cells(cells: tuple[CellView, ...]) -> list[CellView]:
    """One cell per layer, bottom first (the reverse direction has the same shapes)."""
    return [cell for cell in cells if cell.direction == "forward"]


def _torch_layer_and_output_steps(cells: tuple[CellView, ...], config: TorchRecurrentConfig) -> list[Step]:
    two = config.bidirectional
    layers = _forward_cells(cells)

    def hidden(layer: int) -> Operand:
        """Layer ``layer``'s h_t."""
        symbol = "h_t" if len(layers) == 1 else f"h_t^({layer})"
        return _whole(symbol, layers[layer].hidden_state)

    def both(h_t: Operand, layer: int) -> str:
        if not two:
            return h_t.symbol
        reverse = "h_t^reverse" if len(layers) == 1 else f"h_t^({layer},reverse)"
        return f"concat({h_t.symbol}, {reverse})"

    packed = config.lengths is not None
    steps = []
    for layer, cell in enumerate(layers[1:], start=1):
        below = hidden(layer - 1)
        if packed:
            x_layer = _packed_rows(f"x_t^({layer})", cell.step_input, cell.step_shape)
        else:
            x_layer = _part(f"x_t^({layer})", cell.step_input, cell.time_axis, "t")
        steps.append(_step(x_layer, both(below, layer - 1), below))
    top = layers[-1]
    if packed:
        rows = (top.hidden_state.shape[0], top.output.shape[-1])
        output = _packed_rows(f"output.data{_PACKED_ROWS}", top.output, rows)
    else:
        output = _part(f"output{_torch_time_index(config)}", top.output, top.time_axis, "t")
    steps.append(_step(output, both(hidden(len(layers) - 1), len(layers) - 1), hidden(len(layers) - 1)))
    end = "{L_n}" if packed else "T"  # a packed sequence n stops after its own length L_n
    last_states = [_whole(f"h_{end}", top.hidden_state)]
    if top.cell_state is not None:
        last_states.append(_whole(f"c_{end}", top.cell_state))
    for final, last in zip(top.final_states, last_states, strict=True):
        steps.append(
            _step(_whole(final.name, final), f"stack({last.symbol} of each layer and direction)", last)
        )
    return steps


def _torch_notes(config: TorchRecurrentConfig, result: LayerResult) -> tuple[str, ...]:
    cell = result.cells[0]
    states = "h_0 = c_0 = 0" if cell.cell_state is not None else "h_0 = 0"
    lengths = config.lengths
    steps = config.timesteps if lengths is None else lengths.longest
    notes = [f"t = 1 … {steps}; {states} unless given."]
    if lengths is not None:
        finals = "h_n and c_n hold" if cell.cell_state is not None else "h_n holds"
        notes.append(
            "packed: step t holds N_t rows (batch_sizes' entry for t), the sequences longer than t with "
            "the longest first; they are rows S_t … S_t + N_t of input.data and output.data, "
            f"S_t = N_1 + … + N_(t-1). The shapes are step 1's, N_1 = {lengths.sequences}; sequence n "
            f"stops after its own length L_n, so {finals} each sequence's last step."
        )
    if config.unbatched:
        notes.append("unbatched: PyTorch adds a batch axis of 1 and drops it again; no shape here has one.")
    if not cell.gates:
        notes.append("x Wᵀ is a matrix product with W stored as (out, in).")
    else:
        symbols = ["W_ig", "W_hg", "b_ig", "b_hg"][: len(cell.weight_slots(cell.gates[0]))]
        names = [t.name for t in cell.weight_slots().values()]
        notes.append(
            "PyTorch writes W x for x · Wᵀ: weights are stored (out, in), the gates stacked on axis 0 "
            f"in the order {', '.join(result.gate_order)}; {_listed(symbols)} are gate g's slices "
            f"of {_listed(names)}. ⊙ is element-wise."
        )
    if config.cell == "gru":
        notes.append(
            "n_t: r_t scales the whole recurrent term W_hn h_{t-1} + b_hn, like Keras reset_after=True."
        )
    if cell.projection is not None:
        notes.append(f"proj_size: h_t is projected by W_hr ({cell.projection.name}); c_t keeps hidden_size.")
    for layer, above in enumerate(_forward_cells(result.cells)[1:], start=1):
        weights = ", ".join(f"{t.name} {format_shape(t.shape)}" for t in above.kernels)
        notes.append(f"layer {layer} runs the same equations on x_t^({layer}), with {weights}.")
    if config.bidirectional:
        order = "t = L_n … 1: each sequence from its own last step" if lengths is not None else "t = T … 1"
        notes.append(
            f"the reverse direction runs the same equations on the reversed sequence ({order}) "
            "with the tensors named ..._reverse."
        )
    return tuple(notes)


# ------------------------------------------------------------------------------------ ONNX
def _picked(symbol: str, tensor: Tensor, picks: Mapping[int, str]) -> Operand:
    """``tensor`` at ``picks`` (axis -> index), those axes dropped: ``Y[t, 0]``, ``Y_h[:, 0]``."""
    last = max(picks)
    index = "[" + ", ".join(picks.get(axis, ":") for axis in range(last + 1)) + "]"
    shape = tuple(size for axis, size in enumerate(tensor.shape) if axis not in picks)
    return Operand(symbol, tensor.name, shape, index)


_ONNX_FUNCTIONS = {
    "lstm": "f = σ (Sigmoid), g = tanh and h = tanh: the spec's default activations.",
    "gru": "f = σ (Sigmoid) and g = tanh: the spec's default activations.",
    "rnn": "f = tanh: the spec's default activation.",
}


def _onnx(result: LayerResult, config: OnnxRecurrentConfig) -> Explanation:
    cell = result.cells[0]
    batch_first = config.layout == 1
    x = _part("X_t", cell.step_input, cell.time_axis, "t")
    steps = [_step(x, "X[:, t]" if batch_first else "X[t]", _whole("X", cell.step_input))]
    steps += _cell_steps(cell, x, _whole("H_{t-1}", cell.hidden_state))
    hidden = _whole("H_t", cell.hidden_state)
    every = {1: "t", 2: "0"} if batch_first else {0: "t", 1: "0"}
    steps.append(_step(_picked(f"Y{_picks_text(every)}", cell.output, every), "H_t", hidden))
    last_t = "1" if config.direction == "reverse" else "T"
    last = [_whole(f"H_{last_t}", cell.hidden_state)]
    if cell.cell_state is not None:
        last.append(_whole(f"C_{last_t}", cell.cell_state))
    own = {1: "0"} if batch_first else {0: "0"}
    for final, state in zip(cell.final_states, last, strict=True):
        steps.append(_step(_picked(f"{final.name}{_picks_text(own)}", final, own), state.symbol, state))
    return Explanation(tuple(steps), _onnx_notes(config, result))


def _picks_text(picks: Mapping[int, str]) -> str:
    return "[" + ", ".join(picks.get(axis, ":") for axis in range(max(picks) + 1)) + "]"


def _onnx_notes(config: OnnxRecurrentConfig, result: LayerResult) -> tuple[str, ...]:
    cell = result.cells[0]
    order = "t = T … 1 (direction reverse)" if config.direction == "reverse" else "t = 1 … T"
    states = "H and C are" if cell.cell_state is not None else "H is"
    initial = "initial_h and initial_c are" if cell.cell_state is not None else "initial_h is"
    notes = [f"{order}, T = {config.timesteps}; {states} 0 before the first step unless {initial} given."]
    if config.nonlinearity == "relu":
        notes.append("f = Relu, max(0, x): the node's activations (the spec's default is Tanh).")
    else:
        notes.append(_ONNX_FUNCTIONS[config.cell])
    stored = "W, R, B and P" if config.peepholes else "W, R and B"
    if cell.gates:
        symbols = "W_g, R_g, Wb_g, Rb_g" + (" and P_g" if config.peepholes else "")
        notes.append(
            f"· is a matrix product and ᵀ a transpose (weights are stored (out, in)); {symbols} are gate "
            f"g's slices of {stored} (gate order {', '.join(result.gate_order)}), shown for direction 0. "
            "⊙ is element-wise."
        )
    else:
        notes.append("· is a matrix product and ᵀ a transpose (weights are stored (out, in)): W_i is W[0].")
    if config.peepholes:
        notes.append("peepholes: i_t and f_t read C_{t-1}, o_t reads the new C_t (the spec's Po ⊙ Ct).")
    if config.cell == "gru":
        notes.append(
            "linear_before_reset=1: r_t scales the recurrent term H_{t-1} · R_hᵀ + Rb_h."
            if config.linear_before_reset
            else "linear_before_reset=0 (the spec's default): r_t scales H_{t-1} before the product with R_h."
        )
    if config.direction == "bidirectional":
        notes.append(
            "the backward direction runs the same equations on the reversed sequence (t = T … 1) with "
            "direction 1 of every tensor (the spec's WB, RB, ...); its H_t goes to Y's direction 1."
        )
    return tuple(notes)


def _listed(items: list[str]) -> str:
    """``a, b and c``."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)
