"""The cell table: every fact about a recurrent cell kind, in one place.

One :class:`CellSpec` per kind (``lstm``, ``gru``, ``rnn``; ConvLSTM is the
lstm cell with convolutions) holds one :class:`Convention` per framework (Keras 3,
PyTorch and the ONNX operators): the
class names, the gates in the order the framework fuses them, and the
equations of one step as templates. ``--explain`` and the cell picture fill the
same templates (:func:`fill`), each in its own :class:`Notation`.

>>> CELLS["lstm"].keras.order, CELLS["lstm"].torch.order, CELLS["gru"].torch.order
('ifco', 'ifgo', 'rzn')
>>> CELLS["lstm"].onnx.order, CELLS["gru"].onnx.order, CELLS["rnn"].onnx.order
('iofc', 'zrh', '')
>>> CELLS["gru"].torch.gate("candidate").meaning
'new gate (candidate)'
>>> gate = CELLS["lstm"].keras.gate("forget")
>>> fill(gate.template, {"x": "x_t", "W": "W_f", "h": "h_{t-1}", "U": "U_f"}, PLAIN)
('x_t · W_f + h_{t-1} · U_f', ('x', 'W', 'h', 'U'))
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shapecalc.record import record

SIGMOID, TANH = "σ", "tanh"


@record
class Notation:
    """How one renderer writes products and subscripts: plain text or the picture's markup."""

    #: A weight product (matrix product, or ``*`` for a convolution).
    dot: str
    #: The element-wise product.
    had: str
    #: Juxtaposition, PyTorch's ``W x``.
    app: str
    #: Subscripts always in ``_{...}`` (the picture's markup) or only when needed.
    braces: bool

    def symbol(self, base: str, sub: str = "", suffix: str = "") -> str:
        """``x_t``, ``h_{t-1}``, ``b_i[0]``; in braces mode ``x_{t}``, ``b_{i}[0]``.

        >>> PLAIN.symbol("h", "t-1"), MATH.symbol("W", "ii"), PLAIN.symbol("b", "z", "[0]")
        ('h_{t-1}', 'W_{ii}', 'b_z[0]')
        """
        if not sub:
            return base + suffix
        if self.braces or not sub.isalnum():
            return f"{base}_{{{sub}}}{suffix}"
        return f"{base}_{sub}{suffix}"

    def convolved(self) -> Notation:
        """The same notation with ``*`` (a convolution) for the weight product."""
        return Notation(self.dot.replace("·", "*"), self.had, self.app, self.braces)


#: ``--explain``'s notation, and the picture's (``_{...}`` marks a subscript there).
PLAIN = Notation(dot=" · ", had=" ⊙ ", app=" ", braces=False)
MATH = Notation(dot="·", had="⊙", app="", braces=True)

# Pattern text, compiled (and cached by ``re``) on the first fill: the JSON path never fills.
_OPTIONAL = r"\[([^\[\]]*)\]"
_SLOT = r"\{(\w+)\}"
_SEPARATORS = ("dot", "had", "app")


def fill(template: str, values: Mapping[str, str], notation: Notation) -> tuple[str, tuple[str, ...]]:
    """``template`` with its ``{slots}`` filled, and the slots used in reading order.

    ``{dot}``, ``{had}`` and ``{app}`` come from ``notation``; a ``[...]`` part
    is dropped when a slot in it has no value (a layer without bias); any other
    slot without a value is a bug in the table.
    """

    def optional(match: re.Match[str]) -> str:
        slots = set(re.findall(_SLOT, match.group(1))) - set(_SEPARATORS)
        return match.group(1) if slots <= set(values) else ""

    text = re.sub(_OPTIONAL, optional, template)
    used: list[str] = []

    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _SEPARATORS:
            return str(getattr(notation, name))
        if name not in used:
            used.append(name)
        return values[name]

    return re.sub(_SLOT, slot, text), tuple(used)


@record
class GateSpec:
    """One gate: its letter in the fused weights, what it is and how it is computed.

    ``template`` is the pre-activation, with the slots ``x``, ``h`` (the step's
    input and previous hidden state), the gate's weights (``W``, ``U``, ``b``,
    or ``b_x``/``b_h`` for two biases; PyTorch: ``W_x``, ``W_h``, ``b_x``,
    ``b_h``; ONNX: ``W``, ``R``, ``Wb``, ``Rb``, the peephole ``P``), the
    cell states ``c_prev`` and ``c`` (ONNX peepholes) and other gates by role (``reset``).
    """

    letter: str
    role: str
    #: The tensor table's description.
    meaning: str
    #: The picture's short name for the gate's box.
    title: str
    #: Its symbol without the time index (``c̃`` is written ``c̃_t``).
    symbol: str
    activation: str
    template: str
    #: Keras GRU's candidate with ``reset_after=False``: r_t scales h_{t-1} before the product.
    reset_before_template: str = ""
    #: The name an equation gives the activation, when not the function itself (ONNX's ``f``, ``g``).
    function: str = ""

    def preactivation(self, reset_after: bool = True) -> str:
        if self.reset_before_template and not reset_after:
            return self.reset_before_template
        return self.template


@record
class Equation:
    """A state update ``symbol = term + term``; the picture draws each term's operator.

    The slots are gates by role, ``h_prev``, ``c_prev``, ``c`` (the new cell
    state) and ``W_hr`` (PyTorch's projection).
    """

    state: str
    symbol: str
    terms: tuple[str, ...]

    @property
    def template(self) -> str:
        return " + ".join(self.terms)

    def term_with(self, slot: str) -> str:
        """The term that reads ``slot`` (``{candidate}``: the term adding the new content)."""
        return next(term for term in self.terms if "{" + slot + "}" in term)


@record
class Convention:
    """One framework's form of a cell: class names, gates in fused order, equations.

    Keras GRU's ``reset_after`` bias has two rows, filled as ``b_x`` and ``b_h``.
    A gateless cell (SimpleRNN) has ``template`` and ``activation`` for its
    hidden state instead of gates. ``projected`` is the hidden state's update
    with PyTorch's ``proj_size``. ``state_symbols`` are the letters of the step
    input and the two states (ONNX writes ``X``, ``H``, ``C``); ``function``
    names a gateless cell's activation as its equation does.
    """

    framework: str
    layer_class: str
    gates: tuple[GateSpec, ...]
    updates: tuple[Equation, ...]
    #: The templates' names for a gate's input kernel, recurrent kernel, bias and
    #: recurrent bias (the weight layout: Keras has one bias, PyTorch two).
    weight_slots: tuple[str, ...]
    template: str = ""
    activation: str = ""
    conv_classes: tuple[str, ...] = ()
    projected: str = ""
    state_symbols: tuple[str, str, str] = ("x", "h", "c")
    function: str = ""

    @property
    def order(self) -> str:
        """The gate letters in fused order: ``ifco``."""
        return "".join(gate.letter for gate in self.gates)

    def gate(self, role: str) -> GateSpec:
        """The gate playing ``role``: input, forget, candidate, output, update or reset."""
        return next(gate for gate in self.gates if gate.role == role)

    def update(self, state: str) -> Equation:
        return next(equation for equation in self.updates if equation.state == state)

    def weight_symbol(self, slot: str, letter: str, notation: Notation) -> str:
        """The symbol of a gate's weight slot: Keras ``W_i``, ``b_z[0]``; PyTorch ``W_ii``, ``b_hn``;
        ONNX ``W_o``, ``Rb_z``.

        ``letter`` is "" for a gateless cell (Keras ``W``; PyTorch ``W_ih``; ONNX, whose RNN
        calls its one product the input gate, ``W_i``).
        """
        if self.framework == "onnx":
            return notation.symbol(slot, letter or "i")
        base, side = slot.partition("_")[::2]
        if self.framework == "torch":
            return notation.symbol(base, {"x": "i", "h": "h"}[side] + (letter or "h"))
        suffix = {"x": "[0]", "h": "[1]"}.get(side, "")
        return notation.symbol(base, letter, suffix)


@record
class CellSpec:
    """A cell kind: its states, its element-wise cost and its three conventions."""

    kind: str
    #: State tensors in the order the layer returns them.
    states: tuple[str, ...]
    #: Element-wise operations per unit and step; each activation, ⊙, + and ``1 - z``
    #: counts one. The add joining a gate's input and recurrent products is part of
    #: the 2 FLOPs per MAC; bias adds are counted separately.
    elementwise_ops: int
    keras: Convention
    torch: Convention
    onnx: Convention

    def convention(self, framework: str) -> Convention:
        return {"keras": self.keras, "torch": self.torch, "onnx": self.onnx}[framework]


# Pre-activations: Keras computes x · W + h · U (+ bias rows of its own with reset_after),
# PyTorch W_x x + b_x + W_h h + b_h with weights stored (out, in).
_KERAS = "{x}{dot}{W}[ + {b_x}] + {h}{dot}{U}[ + {b_h}][ + {b}]"
_TORCH = "{W_x}{app}{x}[ + {b_x}] + {W_h}{app}{h}[ + {b_h}]"
_KERAS_SLOTS = ("W", "U", "b")
_TORCH_SLOTS = ("W_x", "W_h", "b_x", "b_h")
# ONNX writes Xt*(Wi^T) + Ht-1*(Ri^T) + Wbi + Rbi, peepholes Pi (.) Ct-1 (Po (.) Ct for o).
_ONNX = "{x}{dot}{W}ᵀ + {h}{dot}{R}ᵀ[ + {Wb}][ + {Rb}]"
_ONNX_PEEPHOLE = "{x}{dot}{W}ᵀ + {h}{dot}{R}ᵀ[ + {P}{had}{c_prev}][ + {Wb}][ + {Rb}]"
_ONNX_OUTPUT = "{x}{dot}{W}ᵀ + {h}{dot}{R}ᵀ[ + {P}{had}{c}][ + {Wb}][ + {Rb}]"
_ONNX_SLOTS = ("W", "R", "Wb", "Rb", "P")
_ONNX_STATES = ("X", "H", "C")

_LSTM_UPDATES = (
    Equation("cell_state", "c_t", ("{forget}{had}{c_prev}", "{input}{had}{candidate}")),
    Equation("hidden_state", "h_t", ("{output}{had}tanh({c})",)),
)


def _lstm(candidate: str, template: str) -> tuple[GateSpec, ...]:
    symbol = "c̃" if candidate == "c" else candidate
    return (
        GateSpec("i", "input", "input gate", "input gate", "i", SIGMOID, template),
        GateSpec("f", "forget", "forget gate", "forget gate", "f", SIGMOID, template),
        GateSpec(candidate, "candidate", "candidate cell", "candidate", symbol, TANH, template),
        GateSpec("o", "output", "output gate", "output gate", "o", SIGMOID, template),
    )


_UPDATE_TERM, _CANDIDATE_TERM = "{update}{had}{h_prev}", "(1 − {update}){had}{candidate}"

_ONNX_LSTM = Convention(
    "onnx",
    "LSTM",
    (
        GateSpec("i", "input", "input gate", "input gate", "i", SIGMOID, _ONNX_PEEPHOLE, function="f"),
        GateSpec("o", "output", "output gate", "output gate", "o", SIGMOID, _ONNX_OUTPUT, function="f"),
        GateSpec("f", "forget", "forget gate", "forget gate", "f", SIGMOID, _ONNX_PEEPHOLE, function="f"),
        GateSpec("c", "candidate", "cell gate (candidate)", "cell gate", "c", TANH, _ONNX, function="g"),
    ),
    (
        Equation("cell_state", "C_t", ("{forget}{had}{c_prev}", "{input}{had}{candidate}")),
        Equation("hidden_state", "H_t", ("{output}{had}h({c})",)),
    ),
    _ONNX_SLOTS,
    state_symbols=_ONNX_STATES,
)
_ONNX_GRU = Convention(
    "onnx",
    "GRU",
    (
        GateSpec("z", "update", "update gate", "update gate", "z", SIGMOID, _ONNX, function="f"),
        GateSpec("r", "reset", "reset gate", "reset gate", "r", SIGMOID, _ONNX, function="f"),
        GateSpec(
            "h",
            "candidate",
            "hidden gate (candidate)",
            "hidden gate",
            "h",
            TANH,
            # linear_before_reset=1; the default 0 is the reset_before form.
            "{x}{dot}{W}ᵀ + {reset}{had}({h}{dot}{R}ᵀ[ + {Rb}])[ + {Wb}]",
            reset_before_template="{x}{dot}{W}ᵀ + ({reset}{had}{h}){dot}{R}ᵀ[ + {Rb}][ + {Wb}]",
            function="g",
        ),
    ),
    (Equation("hidden_state", "H_t", (_CANDIDATE_TERM, _UPDATE_TERM)),),
    _ONNX_SLOTS,
    state_symbols=_ONNX_STATES,
)
_ONNX_RNN = Convention(
    "onnx",
    "RNN",
    (),
    (),
    _ONNX_SLOTS,
    template=_ONNX,
    activation=TANH,
    state_symbols=_ONNX_STATES,
    function="f",
)

CELLS: dict[str, CellSpec] = {
    "lstm": CellSpec(
        kind="lstm",
        states=("hidden_state", "cell_state"),
        # 3 σ + 1 tanh (gates); c_t = f ⊙ c + i ⊙ c̃: 3; h_t = o ⊙ tanh(c_t): 2
        elementwise_ops=9,
        keras=Convention(
            "keras",
            "LSTM",
            _lstm("c", _KERAS),
            _LSTM_UPDATES,
            _KERAS_SLOTS,
            conv_classes=("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"),
        ),
        torch=Convention(
            "torch",
            "nn.LSTM",
            _lstm("g", _TORCH),
            _LSTM_UPDATES,
            _TORCH_SLOTS,
            projected="{W_hr}{app}({output}{had}tanh({c}))",
        ),
        onnx=_ONNX_LSTM,
    ),
    "gru": CellSpec(
        kind="gru",
        states=("hidden_state",),
        # 2 σ + 1 tanh (gates); r ⊙ (...): 1; h_t = z ⊙ h + (1 - z) ⊙ h̃: 4
        elementwise_ops=8,
        keras=Convention(
            "keras",
            "GRU",
            (
                GateSpec("z", "update", "update gate", "update gate", "z", SIGMOID, _KERAS),
                GateSpec("r", "reset", "reset gate", "reset gate", "r", SIGMOID, _KERAS),
                GateSpec(
                    "h",
                    "candidate",
                    "candidate hidden state",
                    "candidate",
                    "h̃",
                    TANH,
                    "{x}{dot}{W}[ + {b_x}] + {reset}{had}({h}{dot}{U}[ + {b_h}])",
                    reset_before_template="{x}{dot}{W} + ({reset}{had}{h}){dot}{U}[ + {b}]",
                ),
            ),
            (Equation("hidden_state", "h_t", (_UPDATE_TERM, _CANDIDATE_TERM)),),
            _KERAS_SLOTS,
        ),
        torch=Convention(
            "torch",
            "nn.GRU",
            (
                GateSpec("r", "reset", "reset gate", "reset gate", "r", SIGMOID, _TORCH),
                GateSpec("z", "update", "update gate", "update gate", "z", SIGMOID, _TORCH),
                GateSpec(
                    "n",
                    "candidate",
                    "new gate (candidate)",
                    "new gate",
                    "n",
                    TANH,
                    "{W_x}{app}{x}[ + {b_x}] + {reset}{had}({W_h}{app}{h}[ + {b_h}])",
                ),
            ),
            (Equation("hidden_state", "h_t", (_CANDIDATE_TERM, _UPDATE_TERM)),),
            _TORCH_SLOTS,
        ),
        onnx=_ONNX_GRU,
    ),
    "rnn": CellSpec(
        kind="rnn",
        states=("hidden_state",),
        # h_t = tanh(...): 1
        elementwise_ops=1,
        keras=Convention("keras", "SimpleRNN", (), (), _KERAS_SLOTS, template=_KERAS, activation=TANH),
        # PyTorch documents nn.RNN as x Wᵀ (its LSTM and GRU as W x).
        torch=Convention(
            "torch",
            "nn.RNN",
            (),
            (),
            _TORCH_SLOTS,
            template="{x}{app}{W_x}ᵀ[ + {b_x}] + {h}{app}{W_h}ᵀ[ + {b_h}]",
            activation=TANH,
        ),
        onnx=_ONNX_RNN,
    ),
}
