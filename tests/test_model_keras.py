"""Keras model files against what Keras 3 reports: every layer's output shape(s) and
parameters, and the totals, for the models in ``tests/data/keras`` (saved by
``generate.py``) — read from the ``to_json()`` file and from the ``.keras`` archive.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import require_oracle

from shapecalc.dims import Expr, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.model import analyze
from shapecalc.model.engine import propagate
from shapecalc.model.graph import TensorRef
from shapecalc.model.reader import parse_model
from shapecalc.model.result import ModelResult

DATA = Path(__file__).parent / "data" / "keras"
NAMES = sorted(path.name.removesuffix(".expected.json") for path in DATA.glob("*.expected.json"))


def _same_dim(ours: Any, keras: int | None) -> bool:
    """Keras' ``None`` is a symbol in shapecalc; a known size must be equal."""
    if keras is None:
        return isinstance(ours, str)
    return ours == keras


def _same_shape(ours: Any, keras: Any) -> bool:
    if keras and isinstance(keras[0], list):
        return len(ours) == len(keras) and all(_same_shape(o, k) for o, k in zip(ours, keras, strict=True))
    return len(ours) == len(keras) and all(_same_dim(o, k) for o, k in zip(ours, keras, strict=True))


def check_against(result: ModelResult, expected: dict[str, Any]) -> None:
    rows = {row.name: row.to_json() for row in result.rows}
    for layer in expected["layers"]:
        ours = rows[layer["name"]]
        assert _same_shape(ours["output_shape"], layer["output_shape"]), (layer, ours["output_shape"])
        assert ours["params"] == layer["params"], (layer, ours["params"])
    assert to_json(result.params) == expected["params"]
    assert to_json(result.trainable) == expected["trainable_params"]
    assert to_json(result.non_trainable) == expected["non_trainable_params"]


def test_there_are_enough_models():
    assert len(NAMES) >= 10


@pytest.mark.parametrize("suffix", [".json", ".keras"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_file_matches_keras(name, suffix):
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    result = analyze(DATA / f"{name}{suffix}")
    assert result.format == "keras"
    check_against(result, expected)


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("keras_models", DATA / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", NAMES)
def test_live_keras_model_matches(name, tmp_path):
    require_oracle("keras")
    generator = _generator()
    model = generator.MODELS[name]()
    expected = generator.expected(model)
    check_against(propagate(parse_model(model.to_json().encode(), f"{name}.json")), expected)
    archive = generator.keras_archive(model, tmp_path)
    check_against(propagate(parse_model(archive, f"{name}.keras")), expected)


def test_symbols_stand_where_keras_has_none():
    result = analyze(DATA / "symbolic_conv.json")
    shapes = {row.name: row.shapes for row in result.rows}
    assert all(isinstance(d, Expr) for d in shapes["conv2d"][0][1:3])
    assert [str(d) for d in shapes["conv2d"][0]] == ["batch", "(d1 - 3)//2 + 1", "(d2 - 3)//2 + 1", "4"]


def test_a_shared_layer_counts_its_weights_once_and_its_work_per_call():
    result = analyze(DATA / "shared_siamese.keras")
    shared = next(row for row in result.rows if row.name == "shared")
    assert shared.connected_to == (TensorRef("left"), TensorRef("right"))
    assert shared.params == 5 * 3 + 3
    assert str(shared.macs) == "batch*30"
    assert str(result.macs) == "batch*33"


def test_keras_files_are_read_without_keras():
    import subprocess
    import sys

    code = (
        "import sys; from shapecalc.model import analyze; "
        f"analyze({str(DATA / 'nested_cnn_lstm.keras')!r}); "
        "assert not {'keras', 'torch', 'tensorflow', 'jax', 'h5py'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_backward_layer_unlike_the_forward_one_runs_apart():
    """A backward LSTM of 7 units beside a forward one of 6: the concat is 13 wide (as the layer
    returns it; Keras' compute_output_shape says 12), and the next layer reads 13 features."""
    document = json.loads((DATA / "bidirectional_text.json").read_text())
    wrapper = document["config"]["layers"][2]
    assert wrapper["class_name"] == "Bidirectional"
    wrapper["config"]["backward_layer"]["config"]["units"] = 7
    result = propagate(parse_model(json.dumps(document).encode(), "text.json"))
    rows = {row.name: row for row in result.rows}
    wrapped = rows[wrapper["config"]["name"]]
    assert [str(d) for d in wrapped.shapes[0]] == ["batch", "timestep", "13"]
    assert wrapped.params == 4 * (6 * (8 + 6) + 6) + 4 * (7 * (8 + 7) + 7)
    assert wrapped.class_name == "Bidirectional(LSTM)"
    following = result.rows[result.rows.index(wrapped) + 1]
    assert following.params == 2 * 3 * (4 * (13 + 4) + 2 * 4)


def _random_stack(rng: Any) -> tuple[list[int | None], list[tuple[str, dict[str, Any]]]]:
    """A random Sequential model of the classes whose shapes compose in many ways."""
    length = rng.choice([None, 1, 2, 5, 9, 16, 31])
    layers: list[tuple[str, dict[str, Any]]] = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(
            ["Conv1D", "MaxPooling1D", "AveragePooling1D", "LSTM", "GRU", "Dense", "UpSampling1D"]
        )
        if kind == "Conv1D":
            options = {"filters": rng.randint(1, 4), "kernel_size": rng.randint(1, 5)}
            options["padding"] = rng.choice(["valid", "same", "causal"])
            if rng.random() < 0.5:
                options["strides"] = rng.randint(1, 3)
            else:
                options["dilation_rate"] = rng.randint(1, 3)
        elif kind in ("MaxPooling1D", "AveragePooling1D"):
            options = {"pool_size": rng.randint(1, 4), "strides": rng.choice([None, 1, 2, 3])}
            options["padding"] = rng.choice(["valid", "same"])
        elif kind in ("LSTM", "GRU"):
            options = {"units": rng.randint(1, 5), "return_sequences": True}
            if kind == "GRU":
                options["reset_after"] = rng.random() < 0.5
        elif kind == "Dense":
            options = {"units": rng.randint(1, 5)}
        else:
            options = {"size": rng.randint(1, 3)}
        layers.append((kind, options))
    return [length, rng.randint(1, 4)], layers


@pytest.mark.oracle
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_random_sequential_stacks_match_keras():
    """Seeded random stacks: where Keras builds the model, every layer matches; where Keras
    refuses it (a window longer than its input), shapecalc refuses it too."""
    require_oracle("keras")
    import random

    import keras

    rng = random.Random(5)
    built = refused = 0
    for _ in range(40):
        shape, layers = _random_stack(rng)
        keras.backend.clear_session()
        try:
            model = keras.Sequential(
                [keras.Input(tuple(shape))] + [getattr(keras.layers, k)(**o) for k, o in layers]
            )
        except ValueError:
            refused += 1
            document = {
                "class_name": "Sequential",
                "config": {
                    "name": "s",
                    "layers": [
                        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, *shape]}}
                    ]
                    + [
                        {"class_name": k, "config": {"name": f"l{i}", **o}} for i, (k, o) in enumerate(layers)
                    ],
                },
            }
            with pytest.raises(ShapecalcError):
                propagate(parse_model(json.dumps(document).encode(), "s.json"))
            continue
        built += 1
        check_against(
            propagate(parse_model(model.to_json().encode(), "s.json")), _generator().expected(model)
        )
    assert built >= 15 and refused >= 3, (built, refused)
