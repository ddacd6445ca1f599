"""The Python API: layer options in, :class:`~shapecalc.result.LayerResult` out.

The command line, model files and batch mode all go through
:func:`build_config`, so an option means the same thing everywhere.

>>> shapes("lstm", units=32, input_dim=20).tensor("recurrent_kernel").shape
(32, 128)
>>> shapes("convlstm", filters=8, kernel=(3, 3), input=("W", "H", 3)).tensor("output").shape
(Expr('batch'), Expr('W - 2'), Expr('H - 2'), 8)
>>> shapes("lstm", framework="torch", hidden_size=32, input_size=20).tensor("h_n").shape
(1, Expr('batch'), 32)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shapecalc.configs import ConvRecurrentConfig, LayerConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.dims import Dim, Expr, parse_dim
from shapecalc.errors import ShapecalcError, shown
from shapecalc.result import LayerResult
from shapecalc.rules import derive

#: Layer kinds and what they build: a recurrent cell name, or a ConvLSTM rank.
LAYER_KINDS: dict[str, str | int] = {
    "lstm": "lstm",
    "gru": "gru",
    "rnn": "rnn",
    "convlstm1d": 1,
    "convlstm": 2,
    "convlstm2d": 2,
    "convlstm3d": 3,
}
FRAMEWORKS = ("keras", "torch")
REQUIRED = "is required"

_COMMON = {"framework", "batch", "timesteps", "use_bias", "bidirectional"}
_KERAS_SEQUENCE = {"return_sequences", "return_state", "merge_mode"}
_KERAS_RECURRENT = _COMMON | _KERAS_SEQUENCE | {"units", "input_dim", "reset_after"}
_TORCH_RECURRENT = _COMMON | {"hidden_size", "input_size", "num_layers", "proj_size", "batch_first"}
_KERAS_CONV = (
    _COMMON
    | _KERAS_SEQUENCE
    | {
        "filters",
        "kernel",
        "input",
        "strides",
        "padding",
        "dilation",
        "data_format",
    }
)
#: Spellings accepted for the same option in the other convention.
_SPELLINGS = {
    "keras": {"hidden_size": "units", "input_size": "input_dim"},
    "torch": {"units": "hidden_size", "input_dim": "input_size"},
}


def shapes(kind: str, *, dtype: str = "float32", explain: bool = False, **options: Any) -> LayerResult:
    """Derive every tensor of layer ``kind`` (``lstm``, ``convlstm``, ...) built with ``options``.

    ``dtype`` sizes the byte counts in ``result.costs``; ``explain`` adds the
    per-timestep equations as ``result.explanation``.
    """
    return derive(build_config(kind, options), dtype=dtype, explain=explain)


def to_dim(value: Any, option: str) -> Dim:
    """An option value as a dimension: an int, an :class:`Expr`, or text to parse."""
    if isinstance(value, bool):
        raise ShapecalcError(f"must be a positive integer or a name, got {shown(value)}", option=option)
    if isinstance(value, (int, Expr)):
        return value
    if isinstance(value, str):
        try:
            return parse_dim(value)
        except ShapecalcError as error:
            raise error.at(option) from None
    raise ShapecalcError(f"must be a positive integer or a name, got {shown(value)}", option=option)


def _dims(value: Any, option: str) -> tuple[Dim, ...] | Dim:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(to_dim(item, option) for item in value)
    return to_dim(value, option)


def _flag(value: Any, option: str) -> bool:
    if not isinstance(value, bool):
        raise ShapecalcError(f"must be true or false, got {shown(value)}", option=option)
    return value


def _text(value: Any, option: str) -> str:
    if not isinstance(value, str):
        raise ShapecalcError(f"must be text, got {shown(value)}", option=option)
    return value


def build_config(kind: str, options: Mapping[str, Any]) -> LayerConfig:
    """Turn ``kind`` and its options (those given; ``None`` means not given) into a config."""
    if kind not in LAYER_KINDS:
        raise ShapecalcError(
            f"unknown layer {shown(kind)}; expected one of {', '.join(LAYER_KINDS)}", option="layer"
        )
    given = {key: value for key, value in options.items() if value is not None}
    framework = _text(given.pop("framework", "keras"), "framework")
    if framework not in FRAMEWORKS:
        raise ShapecalcError(f"must be keras or torch, got {shown(framework)}", option="framework")
    for spelling, canonical in _SPELLINGS[framework].items():
        if spelling in given:
            if canonical in given:
                raise ShapecalcError(f"give {spelling} or {canonical}, not both", option=spelling)
            given[canonical] = given.pop(spelling)
    target = LAYER_KINDS[kind]
    if isinstance(target, int):
        if framework == "torch":
            raise ShapecalcError("PyTorch has no ConvLSTM layer; use --framework keras", option="framework")
        _check_known(kind, framework, given, _KERAS_CONV)
        return _conv_config(target, given)
    if framework == "torch":
        _check_known(kind, framework, given, _TORCH_RECURRENT, _KERAS_RECURRENT)
        return _torch_config(target, given)
    _check_known(kind, framework, given, _KERAS_RECURRENT, _TORCH_RECURRENT)
    if "reset_after" in given and target != "gru":
        raise ShapecalcError("applies to gru only", option="reset_after")
    return _keras_config(target, given)


#: Why an option of one framework has no counterpart in the other.
_WHY_NOT = {
    "num_layers": "with Keras, stack one layer per level",
    "proj_size": "Keras LSTM has no projection",
    "batch_first": "Keras inputs are always batch first",
    "return_sequences": "PyTorch always returns every step's output and the final states",
    "return_state": "PyTorch always returns every step's output and the final states",
    "merge_mode": "PyTorch always concatenates the two directions",
    "reset_after": "nn.GRU always applies the reset gate after the recurrent product, like reset_after=True",
}


def _check_known(
    kind: str,
    framework: str,
    given: Mapping[str, Any],
    allowed: set[str],
    elsewhere: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Refuse options outside ``allowed``; say so when the other framework has them (``elsewhere``)."""
    for key in given:
        if key not in allowed:
            hint = ""
            if key in elsewhere:
                other = "torch" if framework == "keras" else "keras"
                why = f"; {_WHY_NOT[key]}" if key in _WHY_NOT else ""
                hint = f" (it applies to framework {other}{why})"
            raise ShapecalcError(f"is not an option of {kind} with framework {framework}{hint}", option=key)


def _require(given: Mapping[str, Any], key: str) -> Any:
    if key not in given:
        raise ShapecalcError(REQUIRED, option=key)
    return given[key]


def _sequence_options(given: Mapping[str, Any]) -> dict[str, Any]:
    """Options shared by every Keras layer, converted and checked."""
    out: dict[str, Any] = {}
    for key in ("batch", "timesteps"):
        if key in given:
            out[key] = to_dim(given[key], key)
    for key in ("return_sequences", "return_state", "bidirectional", "use_bias"):
        if key in given:
            out[key] = _flag(given[key], key)
    if "merge_mode" in given:
        out["merge_mode"] = _text(given["merge_mode"], "merge_mode")
        if not out.get("bidirectional"):
            raise ShapecalcError(
                "applies only with bidirectional (it says how Bidirectional merges the two directions)",
                option="merge_mode",
            )
    return out


def _keras_config(cell: Any, given: Mapping[str, Any]) -> RecurrentConfig:
    extra = _sequence_options(given)
    if "reset_after" in given:
        extra["reset_after"] = _flag(given["reset_after"], "reset_after")
    return RecurrentConfig(
        cell=cell,
        units=to_dim(_require(given, "units"), "units"),
        input_dim=to_dim(_require(given, "input_dim"), "input_dim"),
        **extra,
    )


def _conv_config(rank: int, given: Mapping[str, Any]) -> ConvRecurrentConfig:
    extra = _sequence_options(given)
    for key, field in (("strides", "strides"), ("dilation", "dilation_rate")):
        if key in given:
            extra[field] = _dims(given[key], key)
    for key in ("padding", "data_format"):
        if key in given:
            extra[key] = _text(given[key], key)
    return ConvRecurrentConfig(
        rank=rank,
        filters=to_dim(_require(given, "filters"), "filters"),
        kernel_size=_dims(_require(given, "kernel"), "kernel"),  # type: ignore[arg-type]
        input_shape=_dims(_require(given, "input"), "input"),  # type: ignore[arg-type]
        **extra,
    )


def _torch_config(cell: Any, given: Mapping[str, Any]) -> TorchRecurrentConfig:
    extra: dict[str, Any] = {}
    for key in ("batch", "timesteps", "proj_size"):
        if key in given:
            extra[key] = to_dim(given[key], key)
    for key in ("bidirectional", "use_bias", "batch_first"):
        if key in given:
            extra[key] = _flag(given[key], key)
    if "num_layers" in given:
        layers = to_dim(given["num_layers"], "num_layers")
        if not isinstance(layers, int):
            raise ShapecalcError(f"must be an integer, got {layers}", option="num_layers")
        extra["num_layers"] = layers
    return TorchRecurrentConfig(
        cell=cell,
        hidden_size=to_dim(_require(given, "hidden_size"), "hidden_size"),
        input_size=to_dim(_require(given, "input_size"), "input_size"),
        **extra,
    )
