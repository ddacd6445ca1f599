"""The known-true table of ``tests/test_layers.py``, rebuilt in the real frameworks.

That table lets the plain suite check real shapes without Keras or PyTorch;
this test keeps it honest: every entry's weights (names, order, shapes), outputs
and parameter count must be what the framework builds today.
"""

from __future__ import annotations

import pytest
from oracle_support import ORACLE_MARKS, Case, require_frameworks
from test_layers import BATCH, KNOWN, STEPS, Known
from test_oracle_keras_convlstm import convlstm_build
from test_oracle_keras_rnn import keras_rnn_build
from test_oracle_onnx_rnn import onnx_known_outputs
from test_oracle_torch_rnn import torch_build

pytestmark = ORACLE_MARKS


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.kind}-{i}" for i, k in enumerate(KNOWN)])
def test_known_layer_is_what_the_framework_builds(known: Known) -> None:
    if known.options.get("framework") == "onnx":
        require_frameworks("onnx", "onnxruntime")
        outputs = onnx_known_outputs(known.kind, known.options, known.weights, BATCH, STEPS)
        assert outputs == known.outputs
        assert sum(_elements(shape) for shape in known.weights.values()) == known.params
        return
    case = Case(known.kind, {**known.options, "batch": BATCH, "timesteps": STEPS}, [{}])
    if known.options.get("framework") == "torch":
        build = torch_build(case)
    elif "filters" in known.options:
        build = convlstm_build(case)
    else:
        build = keras_rnn_build(case)
    built = build()
    assert list(built.weights.items()) == list(known.weights.items())
    assert built.run_outputs[0] == known.outputs
    assert built.params == known.params


def _elements(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total
