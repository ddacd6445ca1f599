"""The equations of one time step, each operand with the shape the engine derived.

Every operand names the tensor of the :class:`~shapecalc.result.LayerResult` it
is (``W_i`` is ``kernel_i``, ``h_{t-1}`` is ``hidden_state``) and takes its
shape from that tensor; the one-step input ``x_t`` is the ``input`` tensor
indexed at one time step (``index`` says how). Nothing here computes a size.

>>> from shapecalc.api import shapes
>>> step = shapes("lstm", units=32, input_dim=20, explain=True).explanation.steps[1]
>>> step.equation
'i_t = σ(x_t · W_i + h_{t-1} · U_i + b_i)'
>>> [(o.symbol, o.shape) for o in step.operands][:2], step.result.shape
([('x_t', (Expr('batch'), 20)), ('W_i', (20, 32))], (Expr('batch'), 32))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapecalc.configs import ConvRecurrentConfig, LayerConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.dims import Dim, format_shape, to_json
from shapecalc.result import LayerResult

SIGMOID, TANH = "σ", "tanh"
#: Gate letter -> (symbol of its activation, activation), per convention.
KERAS_GATE_SYMBOLS = {
    "i": ("i_t", SIGMOID),
    "f": ("f_t", SIGMOID),
    "c": ("c̃_t", TANH),
    "o": ("o_t", SIGMOID),
    "z": ("z_t", SIGMOID),
    "r": ("r_t", SIGMOID),
    "h": ("h̃_t", TANH),
}
TORCH_GATE_SYMBOLS = {
    "i": ("i_t", SIGMOID),
    "f": ("f_t", SIGMOID),
    "g": ("g_t", TANH),
    "o": ("o_t", SIGMOID),
    "r": ("r_t", SIGMOID),
    "z": ("z_t", SIGMOID),
    "n": ("n_t", TANH),
}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Explanation:
    """The steps of one time step of one cell, and notes on reading them."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"steps": [s.to_json() for s in self.steps], "explain_notes": list(self.notes)}


class _Operands:
    """Operands looked up by tensor name in a result; a missing name is a bug, not bad input."""

    def __init__(self, result: LayerResult) -> None:
        self._shapes = {t.name: t.shape for t in result.tensors}

    def has(self, name: str) -> bool:
        return name in self._shapes

    def __call__(self, symbol: str, name: str, axis: int | None = None, at: str = "") -> Operand:
        """The tensor ``name`` as ``symbol``; with ``axis``, only its entry ``at`` on that axis."""
        shape = self._shapes[name]
        if axis is None:
            return Operand(symbol, name, shape)
        index = "[" + ", ".join([":"] * axis + [at]) + "]"
        return Operand(symbol, name, shape[:axis] + shape[axis + 1 :], index)


def explain_layer(result: LayerResult, config: LayerConfig) -> Explanation:
    """The per-timestep equations of ``result``'s layer (the first layer and direction)."""
    if isinstance(config, TorchRecurrentConfig):
        return _torch(result, config)
    return _keras(result, config)


def _step(result: Operand, equation: str, *operands: Operand) -> Step:
    return Step(f"{result.symbol} = {equation}", operands, result)


# ----------------------------------------------------------------------------------- Keras
def _keras(result: LayerResult, config: RecurrentConfig | ConvRecurrentConfig) -> Explanation:
    tensors = _Operands(result)
    own = "forward/" if config.bidirectional else ""
    conv = isinstance(config, ConvRecurrentConfig)
    times = "*" if conv else "·"
    x = tensors("x_t", "input", axis=1, at="t")
    h_prev = tensors("h_{t-1}", own + "hidden_state")
    steps = [_step(x, "x[:, t]", tensors("x", "input"))]

    def gate(letter: str, reset_after: bool) -> Step:
        """``σ(x_t · W_g + h_{t-1} · U_g + b_g)``, and GRU's variants of it."""
        symbol, activation = KERAS_GATE_SYMBOLS[letter]
        w = tensors(f"W_{letter}", own + f"kernel_{letter}")
        u = tensors(f"U_{letter}", own + f"recurrent_kernel_{letter}")
        bias = own + f"bias_{letter}"
        text, operands = f"x_t {times} {w.symbol}", [x, w]
        recurrent, recurrent_operands = f"h_{{t-1}} {times} {u.symbol}", [h_prev, u]
        if reset_after and tensors.has(bias):
            # Keras 3 GRU: bias row 0 joins the input product, row 1 the recurrent product.
            row_0, row_1 = tensors(f"b_{letter}[0]", bias, 0, "0"), tensors(f"b_{letter}[1]", bias, 0, "1")
            text += f" + {row_0.symbol}"
            operands.append(row_0)
            recurrent += f" + {row_1.symbol}"
            recurrent_operands.append(row_1)
        if letter == "h":
            # GRU's candidate: r_t scales the recurrent product (reset_after) or h_{t-1} before it.
            r_t = tensors("r_t", own + "gate_r")
            if reset_after:
                recurrent, recurrent_operands = f"r_t ⊙ ({recurrent})", [r_t, *recurrent_operands]
            else:
                recurrent, recurrent_operands = f"(r_t ⊙ h_{{t-1}}) {times} {u.symbol}", [r_t, h_prev, u]
        text += f" + {recurrent}"
        operands += recurrent_operands
        if not reset_after and tensors.has(bias):
            b = tensors(f"b_{letter}", bias)
            text += f" + {b.symbol}"
            operands.append(b)
        return _step(tensors(symbol, own + f"gate_{letter}"), f"{activation}({text})", *operands)

    if config.cell == "lstm":
        steps += [gate(letter, False) for letter in result.gate_order]
        i_t, f_t, c_hat, o_t = (
            tensors(KERAS_GATE_SYMBOLS[g][0], own + f"gate_{g}") for g in result.gate_order
        )
        steps += _lstm_state_steps(tensors, own, i_t, f_t, c_hat, o_t)
    elif config.cell == "gru":
        reset_after = isinstance(config, RecurrentConfig) and config.reset_after
        steps += [gate(letter, reset_after) for letter in result.gate_order]
        z_t = tensors("z_t", own + "gate_z")
        h_hat = tensors("h̃_t", own + "gate_h")
        h_t = tensors("h_t", own + "hidden_state")
        steps.append(_step(h_t, f"z_t ⊙ h_{{t-1}} + (1 − z_t) ⊙ {h_hat.symbol}", z_t, h_prev, h_hat))
    else:
        w, u = tensors("W", own + "kernel"), tensors("U", own + "recurrent_kernel")
        text = f"x_t {times} W + h_{{t-1}} {times} U"
        operands = [x, w, h_prev, u]
        if tensors.has(own + "bias"):
            operands.append(tensors("b", own + "bias"))
            text += " + b"
        steps.append(_step(tensors("h_t", own + "hidden_state"), f"tanh({text})", *operands))
    steps += _keras_output_steps(tensors, config)
    return Explanation(tuple(steps), _keras_notes(config, result))


def _lstm_state_steps(
    tensors: _Operands, own: str, i_t: Operand, f_t: Operand, c_hat: Operand, o_t: Operand
) -> list[Step]:
    c_prev = tensors("c_{t-1}", own + "cell_state")
    c_t = tensors("c_t", own + "cell_state")
    h_t = tensors("h_t", own + "hidden_state")
    return [
        _step(c_t, f"f_t ⊙ c_{{t-1}} + i_t ⊙ {c_hat.symbol}", f_t, c_prev, i_t, c_hat),
        _step(h_t, "o_t ⊙ tanh(c_t)", o_t, c_t),
    ]


_MERGES = {
    "concat": "concat({a}, {b})",
    "sum": "{a} + {b}",
    "ave": "({a} + {b}) / 2",
    "mul": "{a} ⊙ {b}",
}


def _keras_output_steps(tensors: _Operands, config: RecurrentConfig | ConvRecurrentConfig) -> list[Step]:
    every_step = config.return_sequences
    last, first = ("t", "t") if every_step else ("T", "1")

    def output(name: str) -> Operand:
        if every_step:
            return tensors(f"{name}[:, t]", name, axis=1, at="t")
        return tensors(name, name)

    if not config.bidirectional:
        return [_step(output("output"), f"h_{last}", tensors(f"h_{last}", "hidden_state"))]
    forward = tensors(f"h_{last}^fwd", "forward/hidden_state")
    backward = tensors(f"h_{first}^bwd", "backward/hidden_state")
    if config.merge_mode == "none":
        return [
            _step(output("forward/output"), forward.symbol, forward),
            _step(output("backward/output"), backward.symbol, backward),
        ]
    merged = _MERGES[config.merge_mode].format(a=forward.symbol, b=backward.symbol)
    return [_step(output("output"), merged, forward, backward)]


def _keras_notes(config: RecurrentConfig | ConvRecurrentConfig, result: LayerResult) -> tuple[str, ...]:
    states = "h_0 = c_0 = 0" if config.cell == "lstm" else "h_0 = 0"
    notes = [f"t = 1 … {config.timesteps}; {states} unless an initial state is given."]
    if isinstance(config, ConvRecurrentConfig):
        notes.append(
            f"x_t * W is a convolution with strides {format_shape(config.strides)}, padding "
            f"'{config.padding}' and dilation {format_shape(config.dilation_rate)}; h_{{t-1}} * U one "
            "with stride 1 and padding 'same', so the gates keep the output grid. ⊙ is element-wise."
        )
    else:
        notes.append("· is a matrix product, (batch, in) · (in, out); ⊙ is element-wise.")
    if config.cell != "rnn":
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
def _torch(result: LayerResult, config: TorchRecurrentConfig) -> Explanation:
    tensors = _Operands(result)
    time_axis = 1 if config.batch_first else 0
    at = "[:, t]" if config.batch_first else "[t]"
    x = tensors("x_t", "input", axis=time_axis, at="t")
    h_prev = tensors("h_{t-1}", "hidden_state")
    steps = [_step(x, f"input{at}", tensors("input", "input"))]
    bias = config.use_bias

    def affine(gate: str, weight: str, state: Operand, side: str) -> tuple[str, list[Operand]]:
        """``W_ig x_t + b_ig``: PyTorch's own notation (x · Wᵀ stored as (out, in))."""
        suffix = f"_{gate}" if gate else ""
        w = tensors(f"W_{side}{gate}", f"weight_{weight}_l0{suffix}")
        text, operands = f"{w.symbol} {state.symbol}", [w, state]
        if bias:
            b = tensors(f"b_{side}{gate}", f"bias_{weight}_l0{suffix}")
            text += f" + {b.symbol}"
            operands.append(b)
        return text, operands

    def gate(letter: str) -> Step:
        symbol, activation = TORCH_GATE_SYMBOLS[letter]
        text, operands = affine(letter, "ih", x, "i")
        recurrent, recurrent_operands = affine(letter, "hh", h_prev, "h")
        if letter == "n":
            r_t = tensors("r_t", "gate_r")
            recurrent = f"r_t ⊙ ({recurrent})"
            recurrent_operands.insert(0, r_t)
        return _step(
            tensors(symbol, f"gate_{letter}"),
            f"{activation}({text} + {recurrent})",
            *operands,
            *recurrent_operands,
        )

    if config.cell == "rnn":
        w_ih, w_hh = tensors("W_ih", "weight_ih_l0"), tensors("W_hh", "weight_hh_l0")
        operands = [x, w_ih]
        text = "x_t W_ihᵀ"
        if bias:
            operands.append(tensors("b_ih", "bias_ih_l0"))
            text += " + b_ih"
        operands += [h_prev, w_hh]
        text += " + h_{t-1} W_hhᵀ"
        if bias:
            operands.append(tensors("b_hh", "bias_hh_l0"))
            text += " + b_hh"
        steps.append(_step(tensors("h_t", "hidden_state"), f"tanh({text})", *operands))
    else:
        steps += [gate(letter) for letter in result.gate_order]
    if config.cell == "lstm":
        i_t, f_t, g_t, o_t = (tensors(TORCH_GATE_SYMBOLS[g][0], f"gate_{g}") for g in result.gate_order)
        state_steps = _lstm_state_steps(tensors, "", i_t, f_t, g_t, o_t)
        if config.proj_size:
            c_t = state_steps[0].result
            w_hr = tensors("W_hr", "weight_hr_l0")
            state_steps[1] = _step(tensors("h_t", "hidden_state"), "W_hr (o_t ⊙ tanh(c_t))", w_hr, o_t, c_t)
        steps += state_steps
    elif config.cell == "gru":
        z_t, n_t = tensors("z_t", "gate_z"), tensors("n_t", "gate_n")
        h_t = tensors("h_t", "hidden_state")
        steps.append(_step(h_t, "(1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}", z_t, n_t, h_prev))
    steps += _torch_layer_and_output_steps(tensors, config)
    return Explanation(tuple(steps), _torch_notes(config, result, tensors))


def _torch_layer_and_output_steps(tensors: _Operands, config: TorchRecurrentConfig) -> list[Step]:
    two = config.bidirectional
    time_axis = 1 if config.batch_first else 0

    def hidden(layer: int) -> Operand:
        """Layer ``layer``'s h_t (every layer's has the shape of ``hidden_state``)."""
        return tensors("h_t" if config.num_layers == 1 else f"h_t^({layer})", "hidden_state")

    def both(h_t: Operand, layer: int) -> str:
        if not two:
            return h_t.symbol
        reverse = "h_t^reverse" if config.num_layers == 1 else f"h_t^({layer},reverse)"
        return f"concat({h_t.symbol}, {reverse})"

    steps = []
    for layer in range(1, config.num_layers):
        below = hidden(layer - 1)
        # Every layer's output sequence has the module output's shape.
        x_layer = tensors(f"x_t^({layer})", "output", axis=time_axis, at="t")
        steps.append(_step(x_layer, both(below, layer - 1), below))
    top = hidden(config.num_layers - 1)
    at = "[:, t]" if config.batch_first else "[t]"
    output = tensors(f"output{at}", "output", axis=time_axis, at="t")
    steps.append(_step(output, both(top, config.num_layers - 1), top))
    h_last = tensors("h_T", "hidden_state")
    steps.append(_step(tensors("h_n", "h_n"), "stack(h_T of each layer and direction)", h_last))
    if config.cell == "lstm":
        c_last = tensors("c_T", "cell_state")
        steps.append(_step(tensors("c_n", "c_n"), "stack(c_T of each layer and direction)", c_last))
    return steps


def _torch_notes(config: TorchRecurrentConfig, result: LayerResult, tensors: _Operands) -> tuple[str, ...]:
    states = "h_0 = c_0 = 0" if config.cell == "lstm" else "h_0 = 0"
    notes = [f"t = 1 … {config.timesteps}; {states} unless given."]
    if config.cell == "rnn":
        notes.append("x Wᵀ is a matrix product with W stored as (out, in).")
    else:
        notes.append(
            "PyTorch writes W x for x · Wᵀ: weights are stored (out, in), the gates stacked on axis 0 "
            f"in the order {', '.join(result.gate_order)}; W_ig, W_hg, b_ig and b_hg are gate g's slices "
            "of weight_ih_l0, weight_hh_l0, bias_ih_l0 and bias_hh_l0. ⊙ is element-wise."
        )
    if config.cell == "gru":
        notes.append(
            "n_t: r_t scales the whole recurrent term W_hn h_{t-1} + b_hn, like Keras reset_after=True."
        )
    if config.proj_size:
        notes.append("proj_size: h_t is projected by W_hr (weight_hr_l0); c_t keeps hidden_size.")
    for layer in range(1, config.num_layers):
        names = [f"weight_{kind}_l{layer}" for kind in ("ih", "hh", "hr")]
        weights = ", ".join(
            f"{name} {format_shape(tensors(name, name).shape)}" for name in names if tensors.has(name)
        )
        notes.append(f"layer {layer} runs the same equations on x_t^({layer}), with {weights}.")
    if config.bidirectional:
        notes.append(
            "the reverse direction runs the same equations on the reversed sequence (t = T … 1) "
            "with the tensors named ..._reverse."
        )
    return tuple(notes)
