"""Keras 3 ``LSTM`` / ``GRU`` / ``SimpleRNN`` (and ``Bidirectional``) against shapecalc.

Each seed draws one config over every option: cell, units, input_dim, numeric
or unknown batch and timesteps, return_sequences, return_state, use_bias,
reset_after, bidirectional and every merge mode; a few sizes are names in
shapecalc and numbers in Keras. Zero units make Keras refuse, and shapecalc must too.
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

pytestmark = ORACLE_MARKS

CASES = 300
CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def keras_rnn_case(seed: int) -> Case:
    rng = random.Random(seed)
    kind = rng.choice(tuple(CLASSES))
    env: dict[str, int] = {}
    options: dict[str, Any] = {
        # 0 units is drawn now and then: Keras refuses it.
        "units": size(rng, 0 if rng.random() < 0.05 else 1, 5, "U", 0.3, env),
        "input_dim": size(rng, 1, 4, "D", 0.3, env),
        "return_sequences": rng.random() < 0.5,
        "return_state": rng.random() < 0.5,
        "use_bias": rng.random() < 0.7,
    }
    if kind == "gru":
        options["reset_after"] = rng.random() < 0.6
    if rng.random() < 0.5:
        options["bidirectional"] = True
        options["merge_mode"] = rng.choice(("concat", "sum", "ave", "mul", "none"))
    runs, unknown = sequence_sizes(rng, options, env)
    return Case(kind, options, runs, unknown)


def keras_rnn_layer(case: Case) -> Any:
    import keras

    options, env = case.options, case.runs[0]
    extra = {"reset_after": options["reset_after"]} if "reset_after" in options else {}
    layer = getattr(keras.layers, CLASSES[case.kind])(
        dim_value(options["units"], env),
        return_sequences=options.get("return_sequences", False),
        return_state=options.get("return_state", False),
        use_bias=options.get("use_bias", True),
        **extra,
    )
    return wrap(layer, options.get("bidirectional", False), options.get("merge_mode", "concat"))


def keras_rnn_build(case: Case) -> Callable[[], Built]:
    frame = (dim_value(case.options["input_dim"], case.runs[0]),)
    return lambda: keras_build(case, lambda: keras_rnn_layer(case), frame)


@pytest.mark.parametrize("seed", range(CASES))
def test_keras_recurrent_matches_keras(seed: int) -> None:
    case = keras_rnn_case(seed)
    check(case, keras_rnn_build(case))
