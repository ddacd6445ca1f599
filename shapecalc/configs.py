"""Layer configurations: frozen records, validated when built.

Plain records (:mod:`shapecalc.record`) keep the command line fast. Model files check their
options with pydantic first (``shapecalc.model.options``); recurrent layers
in them then build these same configs through ``shapecalc.api.build_config``.
Every check raises :class:`~shapecalc.errors.ShapecalcError` naming the field.

>>> RecurrentConfig(cell="lstm", units=32, input_dim=20).units
32
"""

from __future__ import annotations

from typing import Any, Literal

from shapecalc.convert import to_choice
from shapecalc.dims import Dim, Expr, sym, to_json
from shapecalc.errors import ShapecalcError, shown
from shapecalc.geometry import check_positive, never_at_least, normalize_tuple
from shapecalc.options import LAYERS, OPTIONS
from shapecalc.packing import Lengths
from shapecalc.record import field, fields, record

BATCH: Expr = sym("batch")
TIMESTEP: Expr = sym("timestep")

RecurrentCell = Literal["lstm", "gru", "rnn"]
#: Deepest PyTorch stack: each layer adds a dozen tensors, so the output (and
#: the time) grows with it; 1,000 layers give about 11 MB of JSON in under a second.
MAX_NUM_LAYERS = 1000


def _check_cell(cell: str) -> None:
    cells = tuple(dict.fromkeys(layer.cell for layer in LAYERS.values()))
    to_choice(cell, "cell", cells, {})


def _check_module_sizes(config: TorchRecurrentConfig | OnnxRecurrentConfig) -> None:
    """The cell and sizes a PyTorch module and an ONNX node share (the keys PyTorch spells)."""
    _check_cell(config.cell)
    for name in ("hidden_size", "input_size", "batch", "timesteps"):
        check_positive(getattr(config, name), name)


def _check_choice(value: str, key: str) -> None:
    """``value`` must be one of the option table's choices for ``key`` (with its refusals)."""
    option = OPTIONS[key]
    to_choice(value, key, option.choices, dict(option.refused))


#: Fields a config's JSON holds only when they differ from their defaults: how a PyTorch module
#: is called (one unbatched sequence, packed lengths) leaves every other answer as it was.
ECHOED_WHEN_SET = frozenset({"unbatched", "lengths", "enforce_sorted"})
#: Fields that change no shape (they matter to ``shapecalc port``): echoed only when not the
#: default, unless ``every_field`` (a port's answer, where they matter).
SHAPELESS = ("activation", "recurrent_activation", "nonlinearity")


def config_to_json(config: object, *, every_field: bool = False) -> dict[str, Any]:
    """A config's fields as JSON-ready values (dims as ints or expression text; lengths as text);
    the shapeless ones at their defaults only with ``every_field``."""
    out: dict[str, Any] = {}
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name in ECHOED_WHEN_SET and value == item.default:
            continue
        if item.name in SHAPELESS and value == item.default and not every_field:
            continue
        if isinstance(value, Lengths):
            out[item.name] = str(value)
        elif isinstance(value, tuple):
            out[item.name] = [to_json(v) for v in value]
        elif isinstance(value, (int, Expr)) and not isinstance(value, bool):
            out[item.name] = to_json(value)
        else:
            out[item.name] = value
    return out


def config_summary(config: object) -> str:
    """The options that differ from their defaults, e.g. ``units=32, input_dim=20``.

    >>> config_summary(RecurrentConfig(cell="lstm", units=32, input_dim=20, return_state=True))
    'units=32, input_dim=20, return_state=True'
    """
    parts = []
    # Sizes the call fixes: one sequence is a batch of one; lengths give the batch and padded length.
    implied = _implied_sizes(config)
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name in ("cell", "rank") or value == item.default or implied.get(item.name, _NONE) == value:
            continue
        if isinstance(value, tuple):
            if item.name in ("strides", "dilation_rate") and all(v == 1 for v in value):
                continue
            value = _tuple_text(value)
        parts.append(f"{item.name}={value}")
    return ", ".join(parts)


_NONE = object()


def _implied_sizes(config: object) -> dict[str, object]:
    """The ``batch`` and ``timesteps`` a PyTorch call fixes (the summary leaves them out)."""
    if not isinstance(config, TorchRecurrentConfig):
        return {}
    if config.unbatched:
        return {"batch": 1}
    if config.lengths is not None:
        return {"batch": config.lengths.sequences, "timesteps": config.lengths.longest}
    return {}


@record
class RecurrentConfig:
    """A Keras 3 ``LSTM``, ``GRU`` or ``SimpleRNN`` layer (``cell`` says which)."""

    cell: RecurrentCell
    units: Dim
    input_dim: Dim
    batch: Dim = BATCH
    timesteps: Dim = TIMESTEP
    return_sequences: bool = False
    return_state: bool = False
    use_bias: bool = True
    reset_after: bool = True
    bidirectional: bool = False
    merge_mode: str = "concat"
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        _check_cell(self.cell)
        for name in ("units", "input_dim", "batch", "timesteps"):
            check_positive(getattr(self, name), name)
        _check_choice(self.merge_mode, "merge_mode")
        _check_choice(self.activation, "activation")
        _check_choice(self.recurrent_activation, "recurrent_activation")
        if self.cell == "rnn" and self.recurrent_activation != "sigmoid":
            raise ShapecalcError("applies to lstm, gru only (SimpleRNN has no gates)",
                                 option="recurrent_activation")  # fmt: skip


@record
class ConvRecurrentConfig:
    """A Keras 3 ``ConvLSTM1D``/``2D``/``3D`` layer.

    ``input_shape`` is one frame in data-format order: spatial sizes then
    channels for ``channels_last``, channels first for ``channels_first``.
    """

    rank: int
    filters: Dim
    kernel_size: tuple[Dim, ...]
    input_shape: tuple[Dim, ...]
    strides: tuple[int, ...] = ()
    padding: str = "valid"
    dilation_rate: tuple[Dim, ...] = ()
    data_format: str = "channels_last"
    batch: Dim = BATCH
    timesteps: Dim = TIMESTEP
    return_sequences: bool = False
    return_state: bool = False
    use_bias: bool = True
    bidirectional: bool = False
    merge_mode: str = "concat"
    cell: str = field(default="lstm", init=False)

    def __post_init__(self) -> None:
        if self.rank not in (1, 2, 3):
            raise ShapecalcError(f"must be 1, 2 or 3, got {self.rank}", option="rank")
        set_ = object.__setattr__
        set_(self, "kernel_size", normalize_tuple(self.kernel_size, self.rank, "kernel_size"))
        set_(self, "input_shape", normalize_tuple(self.input_shape, self.rank + 1, "input_shape", False))
        set_(self, "strides", normalize_tuple(self.strides or 1, self.rank, "strides"))
        for stride in self.strides:
            if not isinstance(stride, int):
                raise ShapecalcError(f"must be integers, got {stride}", option="strides")
        set_(self, "dilation_rate", normalize_tuple(self.dilation_rate or 1, self.rank, "dilation_rate"))
        check_positive(self.filters, "filters")
        check_positive(self.batch, "batch")
        check_positive(self.timesteps, "timesteps")
        _check_choice(self.padding, "padding")
        _check_choice(self.data_format, "data_format")
        _check_choice(self.merge_mode, "merge_mode")
        if max(self.strides) > 1 and any(d != 1 for d in self.dilation_rate):
            raise ShapecalcError(
                "strides > 1 are not compatible with dilation > 1 (Keras refuses it), got "
                f"strides={_tuple_text(self.strides)} and dilation_rate={_tuple_text(self.dilation_rate)}",
                option="strides",
            )

    @property
    def spatial_shape(self) -> tuple[Dim, ...]:
        return self.input_shape[:-1] if self.data_format == "channels_last" else self.input_shape[1:]

    @property
    def channels(self) -> Dim:
        return self.input_shape[-1] if self.data_format == "channels_last" else self.input_shape[0]


@record
class TorchRecurrentConfig:
    """A PyTorch ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` module."""

    cell: RecurrentCell
    hidden_size: Dim
    input_size: Dim
    num_layers: int = 1
    bidirectional: bool = False
    proj_size: Dim = 0
    use_bias: bool = True
    batch_first: bool = False
    batch: Dim = BATCH
    timesteps: Dim = TIMESTEP
    unbatched: bool = False
    lengths: Lengths | None = None
    enforce_sorted: bool = True
    nonlinearity: str = "tanh"

    def __post_init__(self) -> None:
        _check_module_sizes(self)
        _check_call(self)
        _check_choice(self.nonlinearity, "nonlinearity")
        if self.nonlinearity != "tanh" and self.cell != "rnn":
            module = "nn.LSTM" if self.cell == "lstm" else "nn.GRU"
            raise ShapecalcError(f"applies to rnn only ({module} has no nonlinearity)", option="nonlinearity")
        if not isinstance(self.num_layers, int) or isinstance(self.num_layers, bool):
            raise ShapecalcError(f"must be an integer, got {shown(self.num_layers)}", option="num_layers")
        check_positive(self.num_layers, "num_layers")
        if self.num_layers > MAX_NUM_LAYERS:
            raise ShapecalcError(
                f"must be at most {MAX_NUM_LAYERS}, got {shown(self.num_layers)}", option="num_layers"
            )
        if self.proj_size != 0:
            if self.cell != "lstm":
                module = "nn.GRU" if self.cell == "gru" else "nn.RNN"
                raise ShapecalcError(
                    f"only LSTM supports a projection ({module} has no proj_size)", option="proj_size"
                )
            check_positive(self.proj_size, "proj_size")
            size, hidden = self.proj_size, self.hidden_size
            if never_at_least(hidden, size + 1):  # numbers, or names no sizes can make fit
                raise ShapecalcError(
                    f"must be smaller than hidden_size ({hidden}), got {size}", option="proj_size"
                )


def _check_call(config: TorchRecurrentConfig) -> None:
    """How the module is called: one unbatched sequence, or packed lengths that fix the batch
    (their count) and the padded length (at least the longest), as ``pack_padded_sequence`` needs."""
    set_ = object.__setattr__
    lengths = config.lengths
    if not config.enforce_sorted and lengths is None:
        raise ShapecalcError(
            "applies only with lengths (it is pack_padded_sequence's)", option="enforce_sorted"
        )
    if config.unbatched:
        if lengths is not None:
            raise ShapecalcError(
                "give unbatched or lengths, not both (packed sequences are a batch)", option="lengths"
            )
        if config.batch not in (BATCH, 1):
            raise ShapecalcError(
                f"an unbatched input (L, H_in) has no batch axis, got {_echo(config.batch)}",
                option="batch",
            )
        set_(config, "batch", 1)  # PyTorch runs it as a batch of one and drops that axis again
    if lengths is None:
        return
    if config.batch != BATCH and config.batch != lengths.sequences:
        raise ShapecalcError(
            f"must equal the number of lengths ({lengths.sequences}), got {_echo(config.batch)}",
            option="batch",
        )
    steps = config.timesteps
    if steps != TIMESTEP and not (isinstance(steps, int) and steps >= lengths.longest):
        raise ShapecalcError(
            f"must be at least the longest of lengths ({lengths.longest}), got {_echo(steps)}",
            option="timesteps",
        )
    if config.enforce_sorted and not lengths.decreasing:
        raise ShapecalcError(
            f"must not increase while enforce_sorted is true, got {shown(str(lengths))}; "
            "give --no-enforce-sorted to have PyTorch sort them",
            option="lengths",
        )
    set_(config, "batch", lengths.sequences)
    set_(config, "timesteps", lengths.longest if steps == TIMESTEP else steps)


@record
class OnnxRecurrentConfig:
    """An ONNX ``LSTM``, ``GRU`` or ``RNN`` node: its attributes and optional inputs.

    ``layout`` 0 puts the sequence first (``X`` is ``[seq_length, batch_size,
    input_size]``), 1 the batch. ``use_bias`` is input ``B``, ``peepholes`` input ``P``
    (LSTM only); ``linear_before_reset`` is the GRU attribute (0, false, by default);
    ``nonlinearity`` is the RNN's ``activations``, one name for every direction.

    >>> OnnxRecurrentConfig(cell="gru", hidden_size=8, input_size=4, direction="reverse").directions
    1
    """

    cell: RecurrentCell
    hidden_size: Dim
    input_size: Dim
    direction: str = "forward"
    layout: int = 0
    use_bias: bool = True
    peepholes: bool = False
    linear_before_reset: bool = False
    batch: Dim = BATCH
    timesteps: Dim = TIMESTEP
    #: The RNN node's ``activations``, the same in every direction (``tanh``: ONNX's default).
    nonlinearity: str = "tanh"

    def __post_init__(self) -> None:
        _check_module_sizes(self)
        _check_choice(self.direction, "direction")
        _check_choice(self.nonlinearity, "nonlinearity")
        if self.nonlinearity != "tanh" and self.cell != "rnn":
            raise ShapecalcError(f"applies to rnn only (ONNX {self.cell.upper()} keeps its default "
                                 "activations)", option="nonlinearity")  # fmt: skip
        if self.layout not in (0, 1) or isinstance(self.layout, bool):
            raise ShapecalcError(f"must be 0 or 1, got {shown(self.layout)}", option="layout")
        if self.peepholes and self.cell != "lstm":
            raise ShapecalcError(f"only LSTM has peepholes (ONNX {self.cell.upper()} has no P)",
                                 option="peepholes")  # fmt: skip
        if self.linear_before_reset and self.cell != "gru":
            raise ShapecalcError("applies to gru only", option="linear_before_reset")

    @property
    def directions(self) -> int:
        """ONNX's ``num_directions``: 2 if bidirectional, else 1."""
        return 2 if self.direction == "bidirectional" else 1


def _echo(size: Dim) -> str:
    """A size as an error echoes it: ``4``, ``'N'``."""
    return shown(size) if isinstance(size, int) else shown(str(size))


def _tuple_text(values: tuple[Dim, ...]) -> str:
    """``(3, 3)``; a one-axis tuple keeps Python's comma, ``(5,)``."""
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


LayerConfig = RecurrentConfig | ConvRecurrentConfig | TorchRecurrentConfig | OnnxRecurrentConfig
