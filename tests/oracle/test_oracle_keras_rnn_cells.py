"""Keras 3 ``RNN(cell)`` and ``Bidirectional(..., backward_layer=...)`` in model files, against
what the real layer returns.

Each seed draws one layer: an ``RNN`` over an ``LSTMCell``, ``GRUCell``, ``SimpleRNNCell`` or a
``StackedRNNCells`` of them (a stack inside a stack now and then), with return_sequences,
return_state, go_backwards, unroll and stateful (on a fixed batch); or a ``Bidirectional``
whose backward layer is Keras' default copy or another layer (other units, another class,
another use_bias, an ``RNN(cell)`` on either side), merged by concat, by none (two outputs), or
by sum, mul or ave where the two outputs have one shape, as Keras requires. The layer is built
in Keras on an input of known or unknown length, saved with ``to_json()`` and as a ``.keras``
archive, and both are read by shapecalc. The truth is the layer run on concrete inputs (two
lengths when the length is unknown): Keras' ``compute_output_shape`` is wrong for a backward
layer of other units or states. A few ConvLSTM layers with backward layers of their own (other
filters, kernels, padding) are checked the same way.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, dim_value, require_frameworks

from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model

pytestmark = [*ORACLE_MARKS, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

CASES = 80
CELLS = ("LSTMCell", "GRUCell", "SimpleRNNCell")
LAYERS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}
STATES = {"LSTMCell": 2, "GRUCell": 1, "SimpleRNNCell": 1}


@pytest.fixture(scope="module", autouse=True)
def _frameworks() -> None:
    require_frameworks("torch", "keras")


def _cell(rng: random.Random) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "class": rng.choice(CELLS),
        "units": rng.randint(1, 5),
        "use_bias": rng.random() < 0.7,
    }
    if cell["class"] == "GRUCell":
        cell["reset_after"] = rng.random() < 0.6
    return cell


def _cells(rng: random.Random, return_state: bool) -> dict[str, Any]:
    """One cell, or a stack of two or three (one of them a stack itself now and then: Keras 3
    refuses that with return_state, see ``test_keras_refuses_the_states_of_a_nested_stack``)."""
    if rng.random() < 0.5:
        return _cell(rng)
    cells = [_cell(rng) for _ in range(rng.randint(2, 3))]
    if rng.random() < 0.5 and not return_state:
        cells[0] = {"class": "StackedRNNCells", "cells": [_cell(rng), _cell(rng)]}
    return {"class": "StackedRNNCells", "cells": cells}


def _last_units(cell: dict[str, Any]) -> int:
    return _last_units(cell["cells"][-1]) if cell["class"] == "StackedRNNCells" else cell["units"]


def _with_units(cell: dict[str, Any], units: int) -> dict[str, Any]:
    """``cell`` with its last cell giving ``units`` (sum, mul and ave merge outputs of one shape)."""
    if cell["class"] == "StackedRNNCells":
        return {**cell, "cells": [*cell["cells"][:-1], _with_units(cell["cells"][-1], units)]}
    return {**cell, "units": units}


def _recurrent(rng: random.Random, flags: dict[str, bool]) -> dict[str, Any]:
    """A recurrent layer: a plain LSTM/GRU/SimpleRNN (a cell's options) or an RNN over cells."""
    if rng.random() < 0.5:
        return {"layer": "RNN", "cell": _cells(rng, flags["return_state"]), **flags}
    return {"layer": "plain", "cell": _cell(rng), **flags}


def rnn_cells_case(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    flags = {"return_sequences": rng.random() < 0.5, "return_state": rng.random() < 0.5}
    case: dict[str, Any] = {
        "input_dim": rng.randint(1, 4),
        "timesteps": None if rng.random() < 0.4 else rng.randint(1, 4),
    }
    if rng.random() < 0.55:
        go_backwards = rng.random() < 0.3
        # Keras unrolls only a sequence of known length; a stateful layer needs a fixed batch.
        case["unroll"] = case["timesteps"] is not None and rng.random() < 0.3
        case["stateful"] = rng.random() < 0.2
        return {
            **case,
            "wrapper": None,
            "layer": "RNN",
            "cell": _cells(rng, flags["return_state"]),
            **flags,
            "go_backwards": go_backwards,
        }
    forward = _recurrent(rng, flags)
    merge_mode = rng.choice(("concat", None, "concat", None, "concat", "sum", "mul", "ave"))
    backward = None
    if rng.random() < 0.75:
        backward = _recurrent(rng, flags)
        if rng.random() < 0.3:  # another use_bias, the rest alike
            backward = {**forward, "cell": _flip_bias(forward["cell"])}
    if merge_mode in ("sum", "mul", "ave") and backward is not None:
        backward = {**backward, "cell": _with_units(backward["cell"], _last_units(forward["cell"]))}
    return {
        **case,
        "wrapper": "Bidirectional",
        "forward": forward,
        "backward": backward,
        "merge_mode": merge_mode,
    }


def _flip_bias(cell: dict[str, Any]) -> dict[str, Any]:
    if cell["class"] == "StackedRNNCells":
        return {**cell, "cells": [_flip_bias(cell["cells"][0]), *cell["cells"][1:]]}
    return {**cell, "use_bias": not cell["use_bias"]}


def keras_cell(keras: Any, cell: dict[str, Any]) -> Any:
    if cell["class"] == "StackedRNNCells":
        return keras.layers.StackedRNNCells([keras_cell(keras, inner) for inner in cell["cells"]])
    options = {key: value for key, value in cell.items() if key != "class"}
    return getattr(keras.layers, cell["class"])(**options)


def keras_recurrent(keras: Any, layer: dict[str, Any], go_backwards: bool = False) -> Any:
    flags = {
        key: layer[key] for key in ("return_sequences", "return_state", "unroll", "stateful") if key in layer
    }
    if layer["layer"] == "RNN":
        return keras.layers.RNN(keras_cell(keras, layer["cell"]), go_backwards=go_backwards, **flags)
    cell = layer["cell"]
    options = {key: value for key, value in cell.items() if key != "class"}
    return getattr(keras.layers, LAYERS[cell["class"]])(go_backwards=go_backwards, **options, **flags)


def keras_layer(keras: Any, case: dict[str, Any]) -> Any:
    if case["wrapper"] is None:
        return keras_recurrent(keras, case, case["go_backwards"])
    backward = case["backward"]
    return keras.layers.Bidirectional(
        keras_recurrent(keras, case["forward"]),
        merge_mode=case["merge_mode"],
        backward_layer=None if backward is None else keras_recurrent(keras, backward, go_backwards=True),
    )


def _flat(outputs: Any) -> list[tuple[int, ...]]:
    if isinstance(outputs, (list, tuple)):
        return [shape for item in outputs for shape in _flat(item)]
    return [tuple(int(size) for size in outputs.shape)]


def _weight_shapes(detail: Any, env: dict[str, int]) -> list[tuple[int, ...]]:
    weights = [t["shape"] for t in detail["tensors"] if t["role"] == "weight"]
    return sorted(tuple(dim_value(d, env) for d in shape) for shape in weights)


@pytest.mark.parametrize("seed", range(CASES))
def test_rnn_cells_and_backward_layers_match_keras(seed: int, tmp_path: Any) -> None:
    import keras
    import numpy as np

    case = rnn_cells_case(seed)
    keras.backend.clear_session()
    layer = keras_layer(keras, case)
    batch_size = 2 if case.get("stateful") else None
    model = keras.Sequential(
        [keras.Input((case["timesteps"], case["input_dim"]), batch_size=batch_size), layer], name="m"
    )
    model.save(tmp_path / "m.keras")
    lengths = [case["timesteps"]] if case["timesteps"] else [3, 1]
    runs = []
    for batch, steps in zip((2, 2 if batch_size else 3), lengths, strict=False):
        data = (
            np.random.default_rng(seed).standard_normal((batch, steps, case["input_dim"])).astype("float32")
        )
        runs.append(({"batch": batch, "timestep": steps}, _flat(layer(data))))
    real_weights = sorted(tuple(int(s) for s in w.shape) for w in layer.weights)
    for name, text in (
        ("m.json", model.to_json().encode()),
        ("m.keras", (tmp_path / "m.keras").read_bytes()),
    ):
        result = propagate(parse_model(text, name))
        row = result.rows[-1].to_json(detail=True)
        shapes = row["output_shape"] if isinstance(row["output_shape"][0], list) else [row["output_shape"]]
        for env, real in runs:
            ours = [tuple(dim_value(d, env) for d in shape) for shape in shapes]
            assert ours == real, f"{case}\n{name} at {env}: shapecalc {ours}, Keras returned {real}"
        assert row["params"] == layer.count_params() == model.count_params(), case
        assert _weight_shapes(row["detail"], runs[0][0]) == real_weights, case


def features(case: dict[str, Any]) -> set[str]:
    """What a case exercises, as words."""
    found = {f"wrapper={case['wrapper']}", f"timesteps={'unknown' if case['timesteps'] is None else 'known'}"}
    layers = [case] if case["wrapper"] is None else [case["forward"], case["backward"] or case["forward"]]
    for layer in layers:
        found |= {f"return_sequences={layer['return_sequences']}", f"return_state={layer['return_state']}"}
        found |= set(_cell_words(layer["cell"], layer["layer"]))
    if case["wrapper"] is None:
        found |= {f"go_backwards={case['go_backwards']}", f"unroll={case['unroll']}"}
        found.add(f"stateful={case['stateful']}")
        return found
    found.add(f"merge_mode={case['merge_mode']}")
    forward, backward = case["forward"], case["backward"]
    if backward is None:
        found.add("default backward")
    else:
        if _last_units(forward["cell"]) != _last_units(backward["cell"]):
            found.add("backward units differ")
        if forward["cell"]["class"] != backward["cell"]["class"] or forward["layer"] != backward["layer"]:
            found.add("backward class differs")
        if backward == {**forward, "cell": _flip_bias(forward["cell"])}:
            found.add("backward use_bias differs")
    return found


def _cell_words(cell: dict[str, Any], layer: str) -> list[str]:
    if cell["class"] == "StackedRNNCells":
        nested = any(inner["class"] == "StackedRNNCells" for inner in cell["cells"])
        words = ["stacked cells", *(["nested stack"] if nested else [])]
        return words + [word for inner in cell["cells"] for word in _cell_words(inner, layer)]
    return [f"{layer}({cell['class']})" if layer == "RNN" else LAYERS[cell["class"]]]


def test_seeded_cases_cover_every_feature() -> None:
    from collections import Counter

    seen = Counter(word for seed in range(CASES) for word in features(rnn_cells_case(seed)))
    needed = [f"RNN({cell})" for cell in CELLS] + list(LAYERS.values())
    needed += ["stacked cells", "nested stack", "wrapper=None", "wrapper=Bidirectional", "default backward"]
    needed += ["backward units differ", "backward class differs", "backward use_bias differs"]
    needed += [f"merge_mode={mode}" for mode in ("concat", None, "sum", "mul", "ave")]
    needed += [f"{flag}={value}" for flag in ("return_sequences", "return_state") for value in (True, False)]
    needed += ["go_backwards=True", "unroll=True", "stateful=True", "timesteps=unknown", "timesteps=known"]
    thin = {word: seen[word] for word in needed if seen[word] < 2}
    assert not thin, f"too few cases with {thin}"


def test_keras_refuses_the_states_of_a_nested_stack() -> None:
    """A StackedRNNCells inside a StackedRNNCells with return_state: Keras 3 cannot build it, and
    shapecalc refuses it; without return_state both accept it."""
    import json

    import keras

    from shapecalc.errors import ShapecalcError

    def stack() -> Any:
        inner = keras.layers.StackedRNNCells([keras.layers.LSTMCell(5), keras.layers.GRUCell(2)])
        return keras.layers.StackedRNNCells([inner, keras.layers.GRUCell(3)])

    with pytest.raises(ValueError, match="Undefined shapes are not supported"):
        keras.layers.RNN(stack(), return_state=True)(keras.Input((4, 1)))
    built = keras.Sequential([keras.Input((4, 1)), keras.layers.RNN(stack())])
    document = json.loads(built.to_json())
    assert propagate(parse_model(json.dumps(document).encode(), "m.json")).params == built.count_params()
    document["config"]["layers"][1]["config"]["return_state"] = True
    with pytest.raises(ShapecalcError, match="return_state cannot be set with a StackedRNNCells inside"):
        propagate(parse_model(json.dumps(document).encode(), "m.json"))


#: ConvLSTM layers with backward layers of their own: (forward, backward, merge_mode, frame).
CONV_BACKWARD = [
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 3}, {"filters": 3, "kernel_size": 3}, "concat", (6, 6, 1)),
    (
        "ConvLSTM1D",
        {"filters": 2, "kernel_size": 3},
        {"filters": 3, "kernel_size": 1, "padding": "same"},
        None,
        (6, 2),
    ),
    (
        "ConvLSTM2D",
        {"filters": 2, "kernel_size": 3, "padding": "same"},
        {"filters": 2, "kernel_size": 1},
        "sum",
        (5, 5, 2),
    ),
]


@pytest.mark.parametrize(("class_name", "forward", "backward", "merge_mode", "frame"), CONV_BACKWARD)
def test_convlstm_backward_layers_match_keras(class_name, forward, backward, merge_mode, frame) -> None:
    import keras
    import numpy as np

    keras.backend.clear_session()
    flags = {"return_sequences": True, "return_state": merge_mode is None}
    make = getattr(keras.layers, class_name)
    layer = keras.layers.Bidirectional(
        make(**forward, **flags),
        backward_layer=make(**backward, **flags, go_backwards=True),
        merge_mode=merge_mode,
    )
    model = keras.Sequential([keras.Input((None, *frame)), layer])
    real = _flat(layer(np.zeros((2, 4, *frame), "float32")))
    row = propagate(parse_model(model.to_json().encode(), "m.json")).rows[-1].to_json()
    shapes = row["output_shape"] if isinstance(row["output_shape"][0], list) else [row["output_shape"]]
    assert [tuple(dim_value(d, {"batch": 2, "timestep": 4}) for d in shape) for shape in shapes] == real
    assert row["params"] == layer.count_params()
