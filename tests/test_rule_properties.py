"""Symbolic layer results, evaluated at random sizes, equal the numeric results.

Each example draws a concrete layer config, then replaces a random subset of
its sizes by names (``W``, ``U``, ``K0`` ...). Both configs go through the
public API; every dimension of the symbolic JSON (shapes, params, slice
bounds, config, costs) evaluated at the drawn sizes must equal the numeric
JSON, and the symbolic constraints must hold exactly when the numeric config
is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from shapecalc import ShapecalcError, evaluate, parse_dim, shapes

PROPERTY = settings(max_examples=150, deadline=None)

#: Keys whose text describes the config rather than holding dimensions.
PROSE = {"summary", "notes", "description"}
_SLICE = re.compile(r"(?:(?<=\[)|(?<=, ))([^:\[\],]+):([^:\[\],]+)(?=\])")


class Draw:
    """Draws sizes and remembers which ones became names (and their values)."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.env: dict[str, int] = {}

    def size(self, name: str, low: int, high: int) -> tuple[int | str, int]:
        """(value for the symbolic config, value for the numeric config)."""
        value = self.data.draw(st.integers(low, high), label=name)
        if self.data.draw(st.booleans(), label=f"{name} symbolic"):
            self.env[name] = value
            return name, value
        return value, value

    def flag(self, label: str) -> bool:
        return self.data.draw(st.booleans(), label=label)

    def choice(self, options: tuple[str, ...], label: str) -> str:
        return self.data.draw(st.sampled_from(options), label=label)


def _sequence_options(draw: Draw, symbolic: dict[str, Any], numeric: dict[str, Any]) -> None:
    """batch/timesteps (default symbols, a name or a number) and the Keras sequence flags."""
    for option, default in (("batch", "batch"), ("timesteps", "timestep")):
        value = draw.data.draw(st.integers(1, 9), label=option)
        if draw.flag(f"{option} given"):
            symbolic[option] = numeric[option] = value
        else:
            draw.env[default] = value
            numeric[option] = value
    for option in ("return_sequences", "return_state", "bidirectional"):
        symbolic[option] = numeric[option] = draw.flag(option)
    symbolic["use_bias"] = numeric["use_bias"] = not draw.flag("no_bias")
    if symbolic["bidirectional"]:
        merge = draw.choice(("concat", "sum", "ave", "mul", "none"), "merge_mode")
        symbolic["merge_mode"] = numeric["merge_mode"] = merge


def _dims_at(symbolic: Any, numeric: Any, env: Mapping[str, int], where: str) -> None:
    """Walk two JSON documents in step; every symbolic dimension must evaluate to the numeric one."""
    if isinstance(symbolic, dict):
        assert isinstance(numeric, dict) and symbolic.keys() == numeric.keys(), where
        for key, value in symbolic.items():
            if key in PROSE or key == "constraints":
                continue
            if key == "index":
                assert _slices_at(value, env) == numeric[key], f"{where}.index"
                continue
            _dims_at(value, numeric[key], env, f"{where}.{key}")
    elif isinstance(symbolic, list):
        assert isinstance(numeric, list) and len(symbolic) == len(numeric), where
        for position, (left, right) in enumerate(zip(symbolic, numeric, strict=True)):
            _dims_at(left, right, env, f"{where}[{position}]")
    elif isinstance(symbolic, str) and isinstance(numeric, int) and not isinstance(numeric, bool):
        assert evaluate(parse_dim(symbolic), env) == numeric, where
    else:
        assert symbolic == numeric, where


def _slices_at(index: str, env: Mapping[str, int]) -> str:
    """``[..., F:F*2]`` at ``F=8`` -> ``[..., 8:16]``."""

    def bound(match: re.Match[str]) -> str:
        start, stop = (evaluate(parse_dim(part), env) for part in match.groups())
        return f"{start}:{stop}"

    return _SLICE.sub(bound, index)


def _holds(constraint: str, env: Mapping[str, int]) -> bool:
    left, right = constraint.split(" >= ")
    return evaluate(parse_dim(left), env) >= evaluate(parse_dim(right), env)


def _check(kind: str, symbolic: dict[str, Any], numeric: dict[str, Any], env: Mapping[str, int]) -> None:
    try:
        expected = shapes(kind, **numeric)
    except ShapecalcError:
        expected = None
    try:
        derived = shapes(kind, **symbolic)
    except ShapecalcError:
        # Only a size left numeric can make the symbolic config fail; the numeric one then fails too.
        assert expected is None
        event("refused by both")
        return
    constraints_hold = all(_holds(c, env) for c in derived.constraints)
    assert constraints_hold == (expected is not None), derived.constraints
    event("compared" if expected is not None else "refused, constraint false")
    if expected is not None:
        _dims_at(derived.to_json(), expected.to_json(), env, kind)


@PROPERTY
@given(st.data())
def test_convlstm_symbolic_equals_numeric(data: st.DataObject) -> None:
    draw = Draw(data)
    rank = data.draw(st.integers(1, 3), label="rank")
    kind = {1: "convlstm1d", 2: draw.choice(("convlstm", "convlstm2d"), "alias"), 3: "convlstm3d"}[rank]
    padding = draw.choice(("valid", "same"), "padding")
    strides = tuple(data.draw(st.integers(1, 3), label="stride") for _ in range(rank))
    dilation_is_one = max(strides) > 1
    kernel, dilation, spatial = [], [], []
    kernel_num, dilation_num, spatial_num = [], [], []
    for axis in range(rank):
        k_sym, k = draw.size(f"K{axis}", 1, 4)
        d_sym, d = (1, 1) if dilation_is_one else draw.size(f"R{axis}", 1, 3)
        span = d * (k - 1) + 1
        # Sometimes smaller than the dilated kernel, to check the 'valid' refusal and its constraint.
        s_sym, s = draw.size(("L", "H", "W")[axis] if rank > 1 else "L", max(1, span - 3), span + 12)
        kernel.append(k_sym), kernel_num.append(k)
        dilation.append(d_sym), dilation_num.append(d)
        spatial.append(s_sym), spatial_num.append(s)
    channels_sym, channels = draw.size("C", 1, 5)
    filters_sym, filters = draw.size("F", 1, 6)
    data_format = draw.choice(("channels_last", "channels_first"), "data_format")
    if data_format == "channels_last":
        frame, frame_num = (*spatial, channels_sym), (*spatial_num, channels)
    else:
        frame, frame_num = (channels_sym, *spatial), (channels, *spatial_num)
    common = {"padding": padding, "strides": strides, "data_format": data_format}
    symbolic = {**common, "filters": filters_sym, "kernel": kernel, "dilation": dilation, "input": frame}
    numeric = {**common, "filters": filters, "kernel": kernel_num, "dilation": dilation_num}
    numeric["input"] = frame_num
    _sequence_options(draw, symbolic, numeric)
    _check(kind, symbolic, numeric, draw.env)


@PROPERTY
@given(st.data())
def test_keras_recurrent_symbolic_equals_numeric(data: st.DataObject) -> None:
    draw = Draw(data)
    kind = draw.choice(("lstm", "gru", "rnn"), "kind")
    units_sym, units = draw.size("U", 1, 64)
    input_sym, input_dim = draw.size("D", 1, 64)
    symbolic: dict[str, Any] = {"units": units_sym, "input_dim": input_sym}
    numeric: dict[str, Any] = {"units": units, "input_dim": input_dim}
    if kind == "gru":
        symbolic["reset_after"] = numeric["reset_after"] = draw.flag("reset_after")
    _sequence_options(draw, symbolic, numeric)
    _check(kind, symbolic, numeric, draw.env)


@PROPERTY
@given(st.data())
def test_torch_recurrent_symbolic_equals_numeric(data: st.DataObject) -> None:
    draw = Draw(data)
    kind = draw.choice(("lstm", "gru", "rnn"), "kind")
    hidden_sym, hidden = draw.size("H", 2, 64)
    input_sym, input_size = draw.size("I", 1, 64)
    symbolic: dict[str, Any] = {"framework": "torch", "hidden_size": hidden_sym, "input_size": input_sym}
    numeric: dict[str, Any] = {"framework": "torch", "hidden_size": hidden, "input_size": input_size}
    layers = data.draw(st.integers(1, 3), label="num_layers")
    symbolic["num_layers"] = numeric["num_layers"] = layers
    if kind == "lstm" and draw.flag("projection"):
        symbolic["proj_size"], numeric["proj_size"] = draw.size("P", 1, hidden - 1)
    for option in ("bidirectional", "batch_first"):
        symbolic[option] = numeric[option] = draw.flag(option)
    symbolic["use_bias"] = numeric["use_bias"] = not draw.flag("no_bias")
    for option, default in (("batch", "batch"), ("timesteps", "timestep")):
        value = data.draw(st.integers(1, 9), label=option)
        draw.env[default] = numeric[option] = value
    _check(kind, symbolic, numeric, draw.env)


def test_slice_bounds_are_substituted() -> None:
    assert _slices_at("[..., F:F*2]", {"F": 8}) == "[..., 8:16]"
    assert _slices_at("[:, U*3:U*4]", {"U": 5}) == "[:, 15:20]"
    assert _slices_at("[0:H]", {"H": 7}) == "[0:7]"
