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


#: Fields that change no shape (they matter to ``shapecalc port``): echoed only when not the default.
SHAPELESS = ("activation", "recurrent_activation", "nonlinearity")


def config_to_json(config: object, *, every_field: bool = False) -> dict[str, Any]:
    """A config's fields as JSON-ready values (dims as ints or expression text); the shapeless
    ones at their defaults only with ``every_field`` (a port's answer, where they matter)."""
    out: dict[str, Any] = {}
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name in SHAPELESS and value == item.default and not every_field:
            continue
        if isinstance(value, tuple):
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
    for item in fields(config):
        value = getattr(config, item.name)
        if item.name in ("cell", "rank") or value == item.default:
            continue
        if isinstance(value, tuple):
            if item.name in ("strides", "dilation_rate") and all(v == 1 for v in value):
                continue
            value = _tuple_text(value)
        parts.append(f"{item.name}={value}")
    return ", ".join(parts)


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
    nonlinearity: str = "tanh"

    def __post_init__(self) -> None:
        _check_module_sizes(self)
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


@record
class OnnxRecurrentConfig:
    """An ONNX ``LSTM``, ``GRU`` or ``RNN`` node: its attributes and optional inputs.

    ``layout`` 0 puts the sequence first (``X`` is ``[seq_length, batch_size,
    input_size]``), 1 the batch. ``use_bias`` is input ``B``, ``peepholes`` input ``P``
    (LSTM only); ``linear_before_reset`` is the GRU attribute (0, false, by default).

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

    def __post_init__(self) -> None:
        _check_module_sizes(self)
        _check_choice(self.direction, "direction")
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


def _tuple_text(values: tuple[Dim, ...]) -> str:
    """``(3, 3)``; a one-axis tuple keeps Python's comma, ``(5,)``."""
    return "(" + ", ".join(str(v) for v in values) + ("," if len(values) == 1 else "") + ")"


LayerConfig = RecurrentConfig | ConvRecurrentConfig | TorchRecurrentConfig | OnnxRecurrentConfig
