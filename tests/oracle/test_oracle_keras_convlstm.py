"""Keras 3 ``ConvLSTM1D`` / ``2D`` / ``3D`` (and ``Bidirectional``) against shapecalc.

Each seed draws one config: rank, data format, padding, strides (now and then
0, which Keras accepts when built and fails on when run), dilation, kernel and
frame sizes (often too small for the dilated kernel under ``valid``), filters,
bias, the sequence flags and Bidirectional merge modes. Frame, kernel, channel
and filter sizes are sometimes names in shapecalc: its constraints must then
fail exactly when Keras refuses the numbers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from keras_oracle import keras_build, wrap
from oracle_support import (
    ORACLE_MARKS,
    Built,
    Case,
    check,
    dim_value,
    require_frameworks,
    sequence_sizes,
    size,
)

pytestmark = [
    *ORACLE_MARKS,
    # Stride 0: Keras divides by it when computing the output shape (and then refuses).
    pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
]

CASES = 300
KINDS = {1: ("convlstm1d",), 2: ("convlstm", "convlstm2d"), 3: ("convlstm3d",)}
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def convlstm_case(seed: int) -> Case:
    rng = random.Random(seed)
    rank = rng.randint(1, 3)
    env: dict[str, int] = {}
    strides = [rng.choice((1, 1, 2, 3)) for _ in range(rank)]
    if rng.random() < 0.03:
        strides[rng.randrange(rank)] = 0
    # Dilation with strides > 1 is refused by Keras: drawn now and then on purpose.
    dilated = rng.random() < 0.4 and (max(strides) <= 1 or rng.random() < 0.15)
    kernel, dilation, frame = [], [], []
    for axis in range(rank):
        kernel.append(size(rng, 1, 4, f"K{axis}", 0.1, env))
        dilation.append(rng.randint(1, 3) if dilated else 1)
        span = dilation[-1] * (dim_value(kernel[-1], env) - 1) + 1
        # From a little smaller than the dilated kernel (refused under 'valid') to a few larger.
        frame.append(size(rng, max(1, span - 2), span + 4, AXES[rank][axis], 0.3, env))
    channels = size(rng, 1, 3, "C", 0.3, env)
    data_format = rng.choice(("channels_last", "channels_first"))
    options: dict[str, Any] = {
        "filters": size(rng, 1, 3, "F", 0.3, env),
        "kernel": kernel,
        "input": [*frame, channels] if data_format == "channels_last" else [channels, *frame],
        "strides": strides,
        "dilation": dilation,
        "padding": rng.choice(("valid", "same")),
        "data_format": data_format,
        "return_sequences": rng.random() < 0.5,
        "return_state": rng.random() < 0.5,
        "use_bias": rng.random() < 0.7,
    }
    if rng.random() < 0.4:
        options["bidirectional"] = True
        options["merge_mode"] = rng.choice(("concat", "sum", "ave", "mul", "none"))
    runs, unknown = sequence_sizes(rng, options, env)
    return Case(rng.choice(KINDS[rank]), options, runs, unknown)


def convlstm_layer(case: Case) -> Any:
    import keras

    options, env = case.options, case.runs[0]
    rank = len(options["kernel"])
    layer = getattr(keras.layers, f"ConvLSTM{rank}D")(
        dim_value(options["filters"], env),
        tuple(dim_value(k, env) for k in options["kernel"]),
        strides=tuple(options.get("strides", (1,) * rank)),
        padding=options.get("padding", "valid"),
        data_format=options.get("data_format", "channels_last"),
        dilation_rate=tuple(options.get("dilation", (1,) * rank)),
        return_sequences=options.get("return_sequences", False),
        return_state=options.get("return_state", False),
        use_bias=options.get("use_bias", True),
    )
    return wrap(layer, options.get("bidirectional", False), options.get("merge_mode", "concat"))


def convlstm_build(case: Case) -> Callable[[], Built]:
    frame = tuple(dim_value(d, case.runs[0]) for d in case.options["input"])
    return lambda: keras_build(case, lambda: convlstm_layer(case), frame)


@pytest.mark.parametrize("seed", range(CASES))
def test_convlstm_matches_keras(seed: int) -> None:
    case = convlstm_case(seed)
    check(case, convlstm_build(case))
