"""The option table: every option of a layer, written once.

The Click commands, :func:`shapecalc.api.build_config`, batch mode and the
recurrent layers of model files all read this table: its keys, aliases,
flags, kinds, choices, where each option applies and why the other framework
lacks it. It imports only :mod:`shapecalc.record`, so the command line can
build its commands from it before any of the engine loads.

>>> OPTIONS["kernel_size"].flags
('--kernel-size', '--kernel')
>>> find("dilation").key, find("hidden_size").key
('dilation_rate', 'units')
>>> OPTIONS["units"].key_for("torch"), OPTIONS["units"].key_for("onnx")
('hidden_size', 'hidden_size')
>>> OPTIONS["bidirectional"].stand_in("onnx")
('direction', 'bidirectional')
"""

from __future__ import annotations

from shapecalc.record import record

#: Value kinds: how a value is converted (``shapecalc.convert``) and how the CLI takes it.
SIZE, SIZES, SHAPE, COUNT, COUNTS, FLAG, CHOICE, FIXED, LENGTHS = (
    "size",
    "sizes",
    "shape",
    "count",
    "counts",
    "flag",
    "choice",
    "fixed",
    "lengths",
)
KERAS, TORCH, ONNX = "keras", "torch", "onnx"
FRAMEWORKS = (KERAS, TORCH, ONNX)
#: Output formats of the commands (``--format``); batch mode always answers JSON.
FORMATS = ("table", "json", "markdown", "csv", "svg", "html")
#: The counts a sweep's rows can be sorted by (``--sort``).
SORT_KEYS = ("params", "macs", "flops", "weight_bytes")
#: Help sections, in the order ``--help`` shows them.
SECTIONS = ("Layer", "Sequence", "PyTorch", "ONNX", "Output")


@record
class LayerKind:
    """A layer command: ``cell`` is the recurrent cell; ``rank`` the ConvLSTM rank (0: not conv)."""

    name: str
    cell: str
    rank: int = 0

    @property
    def family(self) -> str:
        """``conv`` for the ConvLSTM layers, ``rnn`` for the others."""
        return "conv" if self.rank else "rnn"

    @property
    def frameworks(self) -> tuple[str, ...]:
        return (KERAS,) if self.rank else FRAMEWORKS


#: The layer commands, each once; :data:`LAYER_ALIASES` adds other names for them.
LAYERS = {
    kind.name: kind
    for kind in (
        LayerKind("lstm", "lstm"),
        LayerKind("gru", "gru"),
        LayerKind("rnn", "rnn"),
        LayerKind("convlstm1d", "lstm", 1),
        LayerKind("convlstm", "lstm", 2),
        LayerKind("convlstm3d", "lstm", 3),
    )
}
LAYER_ALIASES = {"convlstm2d": "convlstm"}


@record
class Option:
    """One option. ``key`` is the config field (a Keras, PyTorch or ONNX argument);
    ``framework_keys`` maps a framework to its own name for it when that differs
    (``hidden_size`` for ``units`` under PyTorch and ONNX).

    ``aliases`` are accepted on every surface, as keys and as ``--flags``. ``families``,
    ``cells`` and ``frameworks`` say where the option applies; ``why_not`` maps each other
    framework to why it has no such option. ``refused`` maps a value a framework lacks to
    the reason (``causal`` padding). ``negation`` is a key meaning the opposite flag
    (``no_bias`` for ``use_bias``). ``config`` is false for options that shape the answer,
    not the layer (``dtype``, ``explain``). ``stands_for`` maps a framework to the option and
    value a true flag means there (ONNX has ``direction=bidirectional``, not a flag). Choices
    that are all digits (``layout``) are integers in configs and JSON.
    """

    key: str
    kind: str
    help: str
    section: str = "Layer"
    aliases: tuple[str, ...] = ()
    framework_keys: tuple[tuple[str, str], ...] = ()
    families: tuple[str, ...] = ("rnn", "conv")
    cells: tuple[str, ...] = ("lstm", "gru", "rnn")
    frameworks: tuple[str, ...] = FRAMEWORKS
    choices: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    default: object = None
    why_not: tuple[tuple[str, str], ...] = ()
    negation: str = ""
    metavar: str = ""
    config: bool = True
    cli: bool = True
    stands_for: tuple[tuple[str, str, str], ...] = ()

    def key_for(self, framework: str) -> str:
        """The key this option has in ``framework``'s config."""
        return dict(self.framework_keys).get(framework, self.key)

    def why_not_in(self, framework: str) -> str:
        """Why ``framework`` has no such option ("" when the table says nothing)."""
        return dict(self.why_not).get(framework, "")

    def stand_in(self, framework: str) -> tuple[str, str] | None:
        """The option key and value this flag means under ``framework``, if it stands for one."""
        for where, key, value in self.stands_for:
            if where == framework:
                return key, value
        return None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key that names this option: canonical, other frameworks' names, aliases."""
        own = tuple(dict.fromkeys(key for _, key in self.framework_keys if key != self.key))
        return (self.key, *own, *self.aliases)

    @property
    def integer_choices(self) -> bool:
        """Choices such as ``layout``'s ``0`` and ``1``: integers, not text."""
        return bool(self.choices) and all(choice.isdigit() for choice in self.choices)

    @property
    def flags(self) -> tuple[str, ...]:
        """The command-line flags, canonical first (``--kernel-size``, ``--kernel``)."""
        return tuple("--" + key.replace("_", "-") for key in self.keys)

    def applies_to(self, layer: LayerKind, framework: str) -> bool:
        return layer.family in self.families and layer.cell in self.cells and framework in self.frameworks


_KERAS_ONLY = (KERAS,)
_TORCH_ONLY = (TORCH,)
_ONNX_ONLY = (ONNX,)
_PYTORCH_RETURNS = "PyTorch always returns every step's output and the final states"
_ONNX_RETURNS = "ONNX always returns Y, Y_h (and Y_c)"
_RETURNS = (("torch", _PYTORCH_RETURNS), ("onnx", _ONNX_RETURNS))
_HIDDEN = ((TORCH, "hidden_size"), (ONNX, "hidden_size"))
#: Keras 3's activation names (``keras.activations``); they change no shape, only what a port keeps.
KERAS_ACTIVATIONS = (
    "tanh", "sigmoid", "relu", "linear", "celu", "elu", "exponential", "gelu", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax",
    "mish", "relu6", "selu", "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold",
)  # fmt: skip
_INPUT = ((TORCH, "input_size"), (ONNX, "input_size"))


def why(**by_framework: str) -> tuple[tuple[str, str], ...]:
    """``why_not`` as keywords: ``why(torch="...", onnx="...")``."""
    return tuple(by_framework.items())


OPTIONS = {
    option.key: option
    for option in (
        # The layer.
        Option("units", SIZE, "Hidden size: Keras units, PyTorch and ONNX hidden_size.",
               framework_keys=_HIDDEN, families=("rnn",), metavar="SIZE"),
        Option("input_dim", SIZE, "Features per time step: Keras input_dim, PyTorch and ONNX input_size.",
               framework_keys=_INPUT, families=("rnn",), metavar="SIZE"),
        Option("filters", SIZE, "Output channels.", families=("conv",), metavar="SIZE"),
        Option("kernel_size", SIZES, "Kernel size: one value per axis, or one for every axis.",
               aliases=("kernel",), families=("conv",), metavar="K"),
        Option("input_shape", SHAPE, "One frame, in data-format order (channels last by default).",
               aliases=("input",), families=("conv",), metavar="SIZE"),
        Option("strides", COUNTS, "Input-convolution strides: per axis, or one for every axis.",
               families=("conv",), default=1, metavar="N"),
        Option("padding", CHOICE, "Padding of the input convolution.", families=("conv",),
               choices=("valid", "same"), default="valid",
               refused=(("causal", "ConvLSTM layers accept only 'valid' and 'same'"),)),
        Option("dilation_rate", SIZES, "Dilation rate: per axis, or one for every axis.",
               aliases=("dilation",), families=("conv",), default=1, metavar="D"),
        Option("data_format", CHOICE, "Axis order of a frame.", families=("conv",),
               choices=("channels_last", "channels_first"), default="channels_last"),
        Option("use_bias", FLAG, "Build the layer with biases (--no-bias: without).", default=True,
               negation="no_bias"),
        Option("reset_after", FLAG, "Keras GRU reset_after: a separate recurrent bias.", cells=("gru",),
               families=("rnn",), frameworks=_KERAS_ONLY, default=True,
               why_not=why(torch="nn.GRU always applies the reset gate after the recurrent product, "
                           "like reset_after=True",
                           onnx="ONNX GRU has linear_before_reset instead "
                           "(reset_after=True is linear_before_reset=1)")),
        Option("activation", CHOICE, "Keras activation of the candidate and of the cell state "
               "(SimpleRNN: of h_t); it changes no shape.", families=("rnn",), frameworks=_KERAS_ONLY,
               choices=KERAS_ACTIVATIONS, default="tanh", metavar="NAME",
               why_not=why(torch="nn.LSTM and nn.GRU always use tanh; nn.RNN has nonlinearity",
                           onnx="ONNX RNN has nonlinearity (its activations, Tanh or Relu); "
                           "shapecalc reads ONNX LSTM and GRU at their default, Tanh")),
        Option("recurrent_activation", CHOICE, "Keras activation of the gates; it changes no shape.",
               families=("rnn",), cells=("lstm", "gru"), frameworks=_KERAS_ONLY, choices=KERAS_ACTIVATIONS,
               default="sigmoid", metavar="NAME",
               why_not=why(torch="PyTorch gates always use sigmoid",
                           onnx="ONNX sets activations by attribute; shapecalc reads the default, sigmoid")),
        Option("framework", CHOICE, "Whose convention: Keras 3 layers, PyTorch modules or ONNX operators.",
               choices=FRAMEWORKS, default=KERAS, config=False),
        # The sequence around it.
        Option("batch", SIZE, "Batch size: a number or a name.", section="Sequence",
               aliases=("batch_size",), default="batch", metavar="SIZE"),
        Option("timesteps", SIZE, "Sequence length: a number or a name.", section="Sequence",
               aliases=("timestep",), default="timestep", metavar="SIZE"),
        Option("bidirectional", FLAG, "Both directions: Keras Bidirectional, PyTorch bidirectional=True, "
               "ONNX direction=bidirectional.", section="Sequence", default=False,
               stands_for=((ONNX, "direction", "bidirectional"),)),
        Option("return_sequences", FLAG, "Return the output of every time step.", section="Sequence",
               frameworks=_KERAS_ONLY, default=False, why_not=_RETURNS),
        Option("return_state", FLAG, "Also return the final states.", section="Sequence",
               frameworks=_KERAS_ONLY, default=False, why_not=_RETURNS),
        Option("merge_mode", CHOICE, "How Bidirectional merges the two directions.", section="Sequence",
               frameworks=_KERAS_ONLY, choices=("concat", "sum", "ave", "mul", "none"), default="concat",
               why_not=why(torch="PyTorch always concatenates the two directions",
                           onnx="ONNX keeps the directions apart on Y's num_directions axis")),
        # PyTorch's own.
        Option("num_layers", COUNT, "Stacked layers.", section="PyTorch", families=("rnn",),
               frameworks=_TORCH_ONLY, default=1, metavar="N",
               why_not=why(keras="with Keras, stack one layer per level",
                           onnx="an ONNX LSTM, GRU or RNN node is one layer: stack nodes")),
        Option("proj_size", SIZE, "LSTM projection size (smaller than hidden_size; 0: none).",
               section="PyTorch", families=("rnn",), cells=("lstm",), frameworks=_TORCH_ONLY,
               default=0, metavar="SIZE",
               why_not=why(keras="Keras LSTM has no projection", onnx="ONNX LSTM has no projection")),
        Option("batch_first", FLAG, "Input and output are (batch, seq, feature).", section="PyTorch",
               families=("rnn",), frameworks=_TORCH_ONLY, default=False,
               why_not=why(keras="Keras inputs are always batch first",
                           onnx="use layout 1 for batch-first X and Y")),
        Option("unbatched", FLAG, "One sequence, no batch axis: input (L, H_in), h_n (D*num_layers, H_out).",
               section="PyTorch", families=("rnn",), frameworks=_TORCH_ONLY, default=False,
               why_not=why(keras="Keras layers always take a batch axis",
                           onnx="ONNX X always has a batch_size axis")),
        Option("lengths", LENGTHS, "Pack sequences of these lengths (pack_padded_sequence): 7,3,1, or "
               "LENGTHxCOUNT as in 100x16,50x16.", section="PyTorch", families=("rnn",),
               frameworks=_TORCH_ONLY, metavar="LENGTHS",
               why_not=why(keras="Keras skips padded steps with a mask (Masking, mask_zero); "
                           "its shapes stay padded",
                           onnx="ONNX takes the lengths as the node's optional input sequence_lens "
                           "([batch_size]); Y stays padded")),
        Option("enforce_sorted", FLAG, "pack_padded_sequence's enforce_sorted: lengths must not increase "
               "(--no-enforce-sorted: PyTorch sorts them).", section="PyTorch", families=("rnn",),
               frameworks=_TORCH_ONLY, default=True, negation="no_enforce_sorted",
               why_not=why(keras="Keras has no packed sequences",
                           onnx="ONNX sequence_lens may come in any order")),
        Option("nonlinearity", CHOICE, "nn.RNN nonlinearity, ONNX RNN activations (one for every "
               "direction): tanh or relu; it changes no shape.", section="PyTorch", families=("rnn",),
               cells=("rnn",), frameworks=(TORCH, ONNX), choices=("tanh", "relu"), default="tanh",
               why_not=why(keras="Keras SimpleRNN has activation instead")),
        # ONNX's own.
        Option("direction", CHOICE, "ONNX direction: forward, reverse or both (bidirectional).",
               section="ONNX", families=("rnn",), frameworks=_ONNX_ONLY,
               choices=("forward", "reverse", "bidirectional"), default="forward",
               why_not=why(keras="use bidirectional; a reversed layer has a forward one's shapes",
                           torch="use bidirectional; a reversed layer has a forward one's shapes")),
        Option("layout", CHOICE, "ONNX layout: 0 is (seq, batch, ...), 1 is (batch, seq, ...).",
               section="ONNX", families=("rnn",), frameworks=_ONNX_ONLY, choices=("0", "1"), default=0,
               why_not=why(keras="Keras inputs are always batch first", torch="use batch_first")),
        Option("peepholes", FLAG, "ONNX LSTM input P: peephole weights for the i, o and f gates.",
               section="ONNX", families=("rnn",), cells=("lstm",), frameworks=_ONNX_ONLY, default=False,
               why_not=why(keras="Keras LSTM has no peepholes", torch="nn.LSTM has no peepholes")),
        Option("linear_before_reset", FLAG, "ONNX GRU: the reset gate scales the recurrent product "
               "(like Keras reset_after=True).", section="ONNX", families=("rnn",), cells=("gru",),
               frameworks=_ONNX_ONLY, default=False, negation="no_linear_before_reset",
               why_not=why(keras="Keras GRU has reset_after instead (linear_before_reset=1 is "
                           "reset_after=True)", torch="nn.GRU always applies the reset gate after the "
                           "recurrent product, like linear_before_reset=1")),
        # What to answer.
        Option("dtype", CHOICE, "Element type for the weight and activation bytes.", section="Output",
               choices=("float32", "float16", "bfloat16", "float64"), default="float32", config=False),
        Option("explain", FLAG, "Also show the equations of one time step, every operand's shape.",
               section="Output", default=False, config=False),
        # Keys a config carries that the layer command already fixes; accepted back when they agree.
        Option("cell", FIXED, "The recurrent cell.", cli=False),
        Option("rank", FIXED, "The ConvLSTM rank.", families=("conv",), cli=False),
    )
}  # fmt: skip

#: Every key and alias -> its option.
_BY_KEY = {key: option for option in OPTIONS.values() for key in option.keys}
_BY_KEY.update({option.negation: option for option in OPTIONS.values() if option.negation})


def find(key: str) -> Option | None:
    """The option ``key`` names (canonical, PyTorch spelling, alias or negation), else ``None``."""
    return _BY_KEY.get(key)


def layer_options(layer: LayerKind) -> list[Option]:
    """The options a layer command has under any of its frameworks, in table order."""
    return [
        option
        for option in OPTIONS.values()
        if any(option.applies_to(layer, framework) for framework in layer.frameworks)
    ]


def all_keys() -> list[str]:
    """Every key any surface accepts, aliases and negations included (for did-you-mean)."""
    return sorted(_BY_KEY)
