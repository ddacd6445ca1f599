"""The Python API: layer options in, :class:`~shapecalc.result.LayerResult` out.

The command line, batch mode and model files all go through
:func:`build_config`, which reads the option table (:mod:`shapecalc.options`),
so an option has the same keys, aliases and reasons everywhere.

>>> shapes("lstm", units=32, input_dim=20).tensor("recurrent_kernel").shape
(32, 128)
>>> shapes("convlstm", filters=8, kernel_size=3, input_shape=("W", "H", 3)).tensor("output").shape
(Expr('batch'), Expr('W - 2'), Expr('H - 2'), 8)
>>> shapes("lstm", framework="torch", hidden_size=32, input_size=20).tensor("h_n").shape
(1, Expr('batch'), 32)
>>> shapes("gru", framework="onnx", hidden_size=32, input_size=20, bidirectional=True).tensor("W").shape
(2, 96, 20)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from shapecalc.configs import (
    ConvRecurrentConfig,
    LayerConfig,
    OnnxRecurrentConfig,
    RecurrentConfig,
    TorchRecurrentConfig,
)
from shapecalc.convert import (
    to_choice,
    to_count,
    to_counts,
    to_dim,
    to_flag,
    to_lengths,
    to_size,
    to_sizes,
)
from shapecalc.errors import ShapecalcError, did_you_mean, shown
from shapecalc.options import (
    CHOICE,
    COUNT,
    COUNTS,
    FIXED,
    FLAG,
    FRAMEWORKS,
    LAYER_ALIASES,
    LAYERS,
    LENGTHS,
    ONNX,
    OPTIONS,
    SHAPE,
    SIZE,
    SIZES,
    TORCH,
    LayerKind,
    Option,
    all_keys,
    find,
    layer_options,
)
from shapecalc.result import LayerResult
from shapecalc.rules import derive

__all__ = ["REQUIRED", "Request", "build_config", "layer_kind", "request", "shapes", "to_dim"]

REQUIRED = "is required"


class Request(NamedTuple):
    """What a caller asked for: the layer's config, and how to answer (``dtype``, ``explain``)."""

    config: LayerConfig
    dtype: str = "float32"
    explain: bool = False


def shapes(kind: str, *, dtype: str = "float32", explain: bool = False, **options: Any) -> LayerResult:
    """Derive every tensor of layer ``kind`` (``lstm``, ``convlstm``, ...) built with ``options``.

    ``dtype`` sizes the byte counts in ``result.costs``; ``explain`` adds the
    per-timestep equations as ``result.explanation``.
    """
    asked = request(kind, {**options, "dtype": dtype, "explain": explain})
    return derive(asked.config, dtype=asked.dtype, explain=asked.explain)


def layer_kind(kind: Any) -> LayerKind:
    """The layer command ``kind`` names (``convlstm2d`` is ``convlstm``)."""
    name = LAYER_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
    if not isinstance(name, str) or name not in LAYERS:
        known = [*LAYERS, *LAYER_ALIASES]
        hint = did_you_mean(kind, known) if isinstance(kind, str) else ""
        raise ShapecalcError(
            f"unknown layer {shown(kind)}{hint}; expected one of {', '.join(known)}",
            option="layer",
            code="unknown_layer",
        )
    return LAYERS[name]


def build_config(kind: str, options: Mapping[str, Any]) -> LayerConfig:
    """Turn ``kind`` and its options (those given; ``None`` means not given) into a config."""
    asked = request(kind, options)
    for key in ("dtype", "explain"):
        if key in options and options[key] is not None:
            raise ShapecalcError(
                "sets how to answer, not the layer: give it to shapes() or derive()", option=key
            )
    return asked.config


def request(kind: str, options: Mapping[str, Any]) -> Request:
    """The config, dtype and explain flag that ``options`` ask for, every key checked."""
    layer = layer_kind(kind)
    given = _canonical(options, layer)
    framework = to_choice(given.pop("framework", "keras"), "framework", FRAMEWORKS, {})
    if framework not in layer.frameworks:
        lacking = "ONNX has no ConvLSTM operator" if framework == ONNX else "PyTorch has no ConvLSTM layer"
        raise ShapecalcError(f"{lacking}; use framework keras, got {shown(framework)}", option="framework")
    dtype = to_choice(given.pop("dtype", "float32"), "dtype", OPTIONS["dtype"].choices, {})
    explain = to_flag(given.pop("explain", False), "explain")
    values: dict[str, Any] = {}
    meant: dict[str, tuple[str, str]] = {}  # key -> (value, the flag that means it)
    for key, value in given.items():
        option = OPTIONS[key]
        field = option.key_for(framework)
        default = value is option.default or (isinstance(value, str) and value == option.default)
        if layer.cell not in option.cells and default:
            continue  # reset_after=True on an LSTM, as its config echoes it: it changes nothing
        _check_applies(option, field, layer, framework)
        if option.kind == FIXED:
            _check_fixed(field, value, layer)
            continue
        stand_in = option.stand_in(framework)
        if stand_in is not None:
            if to_flag(value, field):
                meant[stand_in[0]] = (stand_in[1], field)
            continue
        values[field] = _convert(option, field, value)
    for key, (value, flag) in meant.items():
        if values.setdefault(key, value) != value:
            raise ShapecalcError(
                f"means {key}={value!r}: give {flag} or {key}={values[key]!r}, not both", option=flag
            )
    if values.get("merge_mode", "concat") != "concat" and not values.get("bidirectional"):
        raise ShapecalcError(
            "applies only with bidirectional (it says how Bidirectional merges the two directions)",
            option="merge_mode",
        )
    return Request(_config(layer, framework, values), dtype, explain)


def _canonical(options: Mapping[str, Any], layer: LayerKind) -> dict[str, Any]:
    """``options`` under their canonical keys; unknown keys and one option given twice refused."""
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in options.items():
        if value is None:
            continue
        option = find(key) if isinstance(key, str) else None
        if option is None:
            own = [key for option in layer_options(layer) for key in option.keys]
            hint = did_you_mean(key, own) or did_you_mean(key, all_keys())
            raise ShapecalcError(
                f"is not an option of {layer.name}{hint}", option=str(key), code="unknown_option"
            )
        if option.negation == key:
            value = not to_flag(value, key)
        if option.key in spelled:
            raise ShapecalcError(f"give {spelled[option.key]} or {key}, not both", option=key)
        if option.kind == SIZE and option.default == 0 and to_dim(value, key) == 0:
            continue  # proj_size=0: no projection, as if not given
        spelled[option.key] = key
        out[option.key] = value
    return out


def _check_applies(option: Option, field: str, layer: LayerKind, framework: str) -> None:
    """Refuse an option the layer or framework lacks, saying where it applies and why not here."""
    if option.applies_to(layer, framework):
        return
    if layer.family not in option.families:
        others = [name for name, kind in LAYERS.items() if kind.family in option.families]
        raise ShapecalcError(
            f"is not an option of {layer.name} (it applies to {', '.join(others)})", option=field
        )
    if layer.cell not in option.cells:
        if option.key == "proj_size":
            module = {"gru": "nn.GRU", "rnn": "nn.RNN"}[layer.cell]
            raise ShapecalcError(f"only LSTM supports a projection ({module} has no proj_size)", option=field)
        raise ShapecalcError(f"applies to {', '.join(option.cells)} only", option=field)
    other = " or ".join(option.frameworks)
    why = f"; {option.why_not_in(framework)}" if option.why_not_in(framework) else ""
    raise ShapecalcError(
        f"is not an option of {layer.name} with framework {framework} (it applies to framework {other}{why})",
        option=field,
    )


def _check_fixed(field: str, value: Any, layer: LayerKind) -> None:
    """``cell`` and ``rank``, as a config echoes them, must be the layer's own."""
    own: str | int = layer.cell if field == "cell" else layer.rank
    if value != own or isinstance(value, bool):
        raise ShapecalcError(f"is {own!r} for layer {layer.name}, got {shown(value)}", option=field)


def _convert(option: Option, field: str, value: Any) -> Any:
    kind = option.kind
    if kind == SIZE:
        return to_size(value, field)
    if kind in (SIZES, SHAPE):
        return to_sizes(value, field)
    if kind == COUNT:
        return to_count(value, field)
    if kind == COUNTS:
        return to_counts(value, field)
    if kind == FLAG:
        return to_flag(value, field)
    if kind == LENGTHS:
        return to_lengths(value, field)
    if kind == CHOICE and option.integer_choices:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(text, str) and text in option.choices:
            return int(text)
        raise ShapecalcError(f"must be one of {', '.join(option.choices)}, got {shown(value)}", option=field)
    if kind == CHOICE:
        return to_choice(value, field, option.choices, dict(option.refused))
    raise TypeError(f"option {option.key} has no conversion for kind {kind!r}")


def _require(values: Mapping[str, Any], key: str) -> Any:
    if key not in values:
        raise ShapecalcError(REQUIRED, option=key, code="required")
    return values[key]


def _config(layer: LayerKind, framework: str, values: dict[str, Any]) -> LayerConfig:
    if layer.rank:
        for key in ("filters", "kernel_size", "input_shape"):
            _require(values, key)
        return ConvRecurrentConfig(rank=layer.rank, **values)
    if framework == TORCH:
        for key in ("hidden_size", "input_size"):
            _require(values, key)
        return TorchRecurrentConfig(cell=layer.cell, **values)  # type: ignore[arg-type]
    if framework == ONNX:
        for key in ("hidden_size", "input_size"):
            _require(values, key)
        return OnnxRecurrentConfig(cell=layer.cell, **values)  # type: ignore[arg-type]
    for key in ("units", "input_dim"):
        _require(values, key)
    return RecurrentConfig(cell=layer.cell, **values)  # type: ignore[arg-type]
