"""Layer options in model files take what Keras users write: every Keras argument of a class is
read or set aside as inert (and listed as ``ignored_options``), anything else is refused with
a suggestion. The config of every layer of ``tests/data/keras``, pasted into a shapecalc model
file, gives Keras' shapes and counts. (``tests/oracle/test_oracle_layer_arguments.py`` checks
the argument lists against Keras 3 itself.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shapecalc.dims import sym, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.model.engine import propagate
from shapecalc.model.graph import Shape
from shapecalc.model.reader import parse_model
from shapecalc.model.result import LayerRow, ModelResult

KERAS = Path(__file__).parent / "data" / "keras"
KERAS_FILES = sorted(path for path in KERAS.glob("*.json") if not path.name.endswith(".expected.json"))


def _run(document: dict[str, Any], source: str = "m.json") -> ModelResult:
    return propagate(parse_model(json.dumps(document).encode(), source))


def _keras_layers(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {layer["config"]["name"]: layer for layer in document["config"]["layers"]}


def _pasted(layer: dict[str, Any], inputs: list[Shape], states: list[Shape]) -> dict[str, Any]:
    """A shapecalc model file holding ``layer``'s Keras config as its one layer's options."""
    shapes = {f"in{number}": shape for number, shape in enumerate([*inputs, *states])}
    names = list(shapes)
    entry = {"type": layer["class_name"], **layer["config"], "inputs": names[: len(inputs)]}
    if states:
        entry["initial_state"] = names[len(inputs) :]
    return {
        "batch": to_json(inputs[0][0]),
        "inputs": {name: [to_json(size) for size in shape[1:]] for name, shape in shapes.items()},
        "layers": [entry],
    }


def _output(row: LayerRow, index: int) -> Shape:
    assert row.shapes is not None
    return row.shapes[index]


def _cases() -> list[tuple[str, str, dict[str, Any], list[Shape], list[Shape], LayerRow]]:
    cases = []
    for path in KERAS_FILES:
        graph = parse_model(path.read_bytes(), path.name)
        rows = {row.name: row for row in propagate(graph).rows}
        layers = _keras_layers(json.loads(path.read_text()))
        for node in graph.layers:
            if node.input_shape is not None:
                continue
            call = node.calls[0]
            inputs = [_output(rows[ref.layer], ref.index) for ref in call.inputs]
            states = [_output(rows[ref.layer], ref.index) for ref in call.initial_state]
            cases.append((path.stem, node.name, layers[node.name], inputs, states, rows[node.name]))
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("model", "name", "layer", "inputs", "states", "expected"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_a_keras_config_pasted_into_a_model_file_works_unchanged(
    model, name, layer, inputs, states, expected
):
    row = _run(_pasted(layer, inputs, states), f"{model}.json").rows[-1]
    assert (row.name, row.shapes) == (name, expected.shapes)
    assert (row.params, row.non_trainable) == (expected.params, expected.non_trainable)
    assert row.ignored_options == expected.ignored_options


def test_every_class_of_the_keras_files_is_pasted():
    classes = {case[2]["class_name"] for case in CASES}
    assert {"LSTM", "GRU", "SimpleRNN", "ConvLSTM2D", "Bidirectional", "TimeDistributed"} <= classes


def test_a_nested_model_config_pasted_as_a_layer_works_unchanged():
    document = json.loads((KERAS / "nested_cnn_lstm.json").read_text())
    wrapper = _keras_layers(document)["per_frame"]
    inner = wrapper["config"]["layer"]
    assert inner["class_name"] == "Sequential"
    keras = {row.name: row for row in _run(document, "nested_cnn_lstm.json").rows}["per_frame"]
    frame = keras.shapes[0][2:] if keras.shapes else ()
    pasted = _run({"input": [16, 16, 1], "layers": [{"type": "Sequential", **inner["config"]}]})
    assert pasted.rows[-1].shapes == ((sym("batch"), *frame),)
    assert pasted.params == keras.params


def test_ignored_options_are_listed_per_layer():
    keras = parse_model((KERAS / "seq2seq_states.json").read_bytes(), "seq2seq_states.json")
    encoder = {row.name: row for row in propagate(keras).rows}["encoder"].to_json()
    assert {"activation", "recurrent_dropout", "kernel_initializer", "dtype"} <= set(
        encoder["ignored_options"]
    )
    assert encoder["ignored_options"] == sorted(encoder["ignored_options"])
    own = _run(
        {
            "input": [10, 3],
            "layers": [
                {"type": "lstm", "units": 4, "return_sequences": True, "recurrent_dropout": 0.2},
                {"type": "time_distributed", "layer": {"type": "dense", "units": 2, "activation": "relu"}},
                {"type": "dense", "units": 1},
            ],
        }
    )
    rows = [row.to_json() for row in own.rows]
    ignored = [row.get("ignored_options") for row in rows]
    assert ignored == [None, ["recurrent_dropout"], ["layer.activation"], None]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "lstm", "units": 4, "unitz": 3}, "unitz is not an option of LSTM (did you mean 'units'?)"),
        (
            {"type": "lstm", "units": 4, "recurent_dropout": 0.1},
            "recurent_dropout is not an option of LSTM (did you mean 'recurrent_dropout'?)",
        ),
        (
            {"type": "dense", "units": 4, "quantization_config": "int8"},
            "quantization_config is not supported (it adds weights shapecalc cannot count), got 'int8'",
        ),
        (
            {"type": "BatchNormalization", "renorm": True},
            "renorm is not supported (it adds weights shapecalc cannot count), got True",
        ),
    ],
)
def test_an_argument_the_class_does_not_have_is_refused(entry, message):
    with pytest.raises(ShapecalcError) as caught:
        _run({"input": [10, 3], "layers": [entry]})
    assert str(caught.value).endswith(message)


def test_a_keras_file_refuses_an_unknown_argument_with_a_suggestion():
    document = json.loads((KERAS / "stacked_lstm.json").read_text())
    document["config"]["layers"][1]["config"]["unitz"] = 3
    with pytest.raises(ShapecalcError, match=r"unitz is not an option of LSTM \(did you mean 'units'\?\)"):
        _run(document, "stacked_lstm.json")


def test_a_backward_layer_unlike_the_forward_one_runs_apart():
    forward = {"class_name": "LSTM", "config": {"name": "forward_lstm", "units": 4}}
    backward = {"class_name": "LSTM", "config": {"name": "backward_lstm", "units": 5, "go_backwards": True}}
    entry = {"type": "Bidirectional", "layer": forward, "backward_layer": backward}
    result = _run({"input": [10, 3], "layers": [entry]})
    assert result.outputs == ((sym("batch"), 9),)
    assert result.params == 4 * (4 * (3 + 4) + 4) + 4 * (5 * (3 + 5) + 5)
    assert result.rows[-1].ignored_options == ("backward_layer.go_backwards",)
    entry["merge_mode"] = "sum"
    with pytest.raises(ShapecalcError, match=r"merge_mode 'sum' merges outputs of one shape, but"):
        _run({"input": [10, 3], "layers": [entry]})
    entry["backward_layer"] = {**backward, "config": {**backward["config"], "units": 4}}
    assert _run({"input": [10, 3], "layers": [entry]}).outputs == ((sym("batch"), 4),)


def test_zero_padding_1d_pads_the_steps_axis_of_channels_first():
    entry = {"type": "ZeroPadding1D", "padding": 1, "data_format": "channels_first"}
    assert _run({"input": [3, 10], "layers": [entry]}).outputs == ((sym("batch"), 3, 12),)
