"""``RNN(cell)``, stacked cells and ``Bidirectional`` backward layers in model files (known-true
shapes and counts, worked out from the Keras weight layouts), and how unknown classes are named.

The differential proof against real Keras is ``tests/oracle/test_oracle_keras_rnn_cells.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shapecalc.errors import ShapecalcError
from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model
from shapecalc.model.result import ModelResult

KERAS = Path(__file__).parent / "data" / "keras"


def lstm(units: int, inputs: int, bias: bool = True) -> int:
    return 4 * (units * (inputs + units) + (units if bias else 0))


def gru(units: int, inputs: int, reset_after: bool = True, bias: bool = True) -> int:
    return 3 * (units * (inputs + units) + ((2 if reset_after else 1) * units if bias else 0))


def simple(units: int, inputs: int, bias: bool = True) -> int:
    return units * (inputs + units) + (units if bias else 0)


def _run(layers: list[dict[str, Any]], shape: list[Any] | None = None) -> ModelResult:
    document = {"input": shape or [None, 3], "layers": layers}
    return propagate(parse_model(json.dumps(document).encode(), "m.json"))


def _shapes(result: ModelResult) -> list[list[str]]:
    row = result.rows[-1]
    assert row.shapes is not None
    return [[str(size) for size in shape] for shape in row.shapes]


def keras_cell(class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": {"name": class_name.lower(), **config}}


#: (layer entry, output shapes, params) on a (batch, timestep, 3) input.
KNOWN = [
    (
        {"type": "rnn", "cell": {"type": "lstm_cell", "units": 4}},
        [["batch", "4"]],
        lstm(4, 3),
    ),
    (
        {"type": "RNN", "cell": keras_cell("GRUCell", units=5, reset_after=False), "return_sequences": True},
        [["batch", "timestep", "5"]],
        gru(5, 3, reset_after=False),
    ),
    (
        {"type": "RNN", "cell": keras_cell("SimpleRNNCell", units=2, use_bias=False), "return_state": True},
        [["batch", "2"], ["batch", "2"]],
        simple(2, 3, bias=False),
    ),
    (
        {
            "type": "RNN",
            "return_state": True,
            "go_backwards": True,
            "cell": keras_cell(
                "StackedRNNCells",
                cells=[
                    keras_cell("LSTMCell", units=4),
                    keras_cell("GRUCell", units=2),
                    keras_cell("SimpleRNNCell", units=6),
                ],
            ),
        },
        [["batch", "6"], ["batch", "4"], ["batch", "4"], ["batch", "2"], ["batch", "6"]],
        lstm(4, 3) + gru(2, 4) + simple(6, 2),
    ),
    (
        {  # a stack inside a stack steps as one stack
            "type": "RNN",
            "return_sequences": True,
            "cell": {
                "type": "stacked_rnn_cells",
                "cells": [
                    {"type": "stacked_rnn_cells", "cells": [{"type": "gru_cell", "units": 3}]},
                    {"type": "lstm_cell", "units": 2},
                ],
            },
        },
        [["batch", "timestep", "2"]],
        gru(3, 3) + lstm(2, 3),
    ),
    (
        {
            "type": "Bidirectional",
            "layer": {"type": "lstm", "units": 4, "return_sequences": True, "return_state": True},
            "backward_layer": {"type": "gru", "units": 6, "return_sequences": True, "return_state": True},
        },
        [["batch", "timestep", "10"], ["batch", "4"], ["batch", "4"], ["batch", "6"]],
        lstm(4, 3) + gru(6, 3),
    ),
    (
        {
            "type": "Bidirectional",
            "merge_mode": None,
            "layer": {"type": "gru", "units": 2, "use_bias": False},
            "backward_layer": {"type": "rnn", "cell": {"type": "simple_rnn_cell", "units": 5}},
        },
        [["batch", "2"], ["batch", "5"]],
        gru(2, 3, bias=False) + simple(5, 3),
    ),
    (
        {
            "type": "Bidirectional",
            "merge_mode": "ave",
            "layer": {"type": "lstm", "units": 3},
            "backward_layer": {"type": "lstm", "units": 3, "use_bias": False},
        },
        [["batch", "3"]],
        lstm(3, 3) + lstm(3, 3, bias=False),
    ),
    (
        {"type": "Bidirectional", "layer": {"type": "rnn", "cell": {"type": "lstm_cell", "units": 2}}},
        [["batch", "4"]],
        2 * lstm(2, 3),
    ),
]


@pytest.mark.parametrize(("entry", "shapes", "params"), KNOWN)
def test_known_shapes_and_counts(entry: dict[str, Any], shapes: list[list[str]], params: int) -> None:
    result = _run([entry])
    assert _shapes(result) == shapes
    assert result.params == params


def test_a_cell_rnn_is_the_layer_of_its_kind() -> None:
    """RNN(LSTMCell(4)) and LSTM(4): the same tensors, counts and costs; another class name."""
    cell = _run([{"type": "RNN", "cell": {"type": "lstm_cell", "units": 4}, "return_state": True}])
    plain = _run([{"type": "lstm", "units": 4, "return_state": True}])
    ours, theirs = cell.rows[-1], plain.rows[-1]
    assert (ours.shapes, ours.params, ours.macs, ours.flops) == (
        theirs.shapes,
        theirs.params,
        theirs.macs,
        theirs.flops,
    )
    assert ours.class_name == "RNN(LSTMCell)"
    assert ours.detail is not None and theirs.detail is not None
    assert ours.detail.tensors == theirs.detail.tensors
    assert ours.detail.layer == "RNN(LSTMCell)"


def test_a_stack_details_every_cell_and_returns_their_states() -> None:
    entry = {
        "type": "RNN",
        "return_state": True,
        "cell": {
            "type": "stacked_rnn_cells",
            "cells": [{"type": "lstm_cell", "units": 4}, {"type": "gru_cell", "units": 2}],
        },
    }
    detail = _run([entry]).rows[-1].detail
    assert detail is not None
    weights = {t.name: [str(d) for d in t.shape] for t in detail.tensors if t.role == "weight"}
    assert weights == {
        "cell_0/kernel": ["3", "16"],
        "cell_0/recurrent_kernel": ["4", "16"],
        "cell_0/bias": ["16"],
        "cell_1/kernel": ["4", "6"],
        "cell_1/recurrent_kernel": ["2", "6"],
        "cell_1/bias": ["2", "6"],
    }
    assert detail.outputs == ("output", "cell_0/hidden_state", "cell_0/cell_state", "cell_1/hidden_state")
    assert detail.params == lstm(4, 3) + gru(2, 4)
    assert detail.costs is not None


def test_a_backward_layer_of_another_class_is_detailed_under_its_direction(
    run_cli: Any, tmp_path: Path
) -> None:
    entry = {
        "type": "Bidirectional",
        "layer": {"type": "lstm", "units": 4, "return_state": True},
        "backward_layer": {"type": "gru", "units": 6, "return_state": True, "go_backwards": True},
    }
    file = tmp_path / "m.json"
    file.write_text(json.dumps({"input": [7, 3], "layers": [entry]}))
    data = json.loads(run_cli("model", str(file), "--format", "json", "--detail").out)
    layer = data["layers"][-1]
    assert layer["class"] == "Bidirectional(LSTM, GRU)"
    assert layer["output_shape"] == [["batch", 10], ["batch", 4], ["batch", 4], ["batch", 6]]
    assert layer["ignored_options"] == ["backward_layer.go_backwards"]
    detail = layer["detail"]
    assert detail["outputs"] == [
        "output",
        "forward/hidden_state",
        "forward/cell_state",
        "backward/hidden_state",
    ]
    names = [t["name"] for t in detail["tensors"]]
    assert {"forward/gate_f", "backward/gate_z", "forward/kernel_o", "backward/recurrent_kernel_h"} <= set(
        names
    )
    assert detail["gate_order"] == []  # two cells, two gate orders: each gate is named by its direction
    assert detail["macs"] == layer["macs"] == "batch*" + str(7 * (3 * 16 + 4 * 16 + 3 * 18 + 6 * 18))
    table = run_cli("model", str(file), "--detail").out
    assert "bidirectional (Bidirectional(LSTM, GRU))" in table
    assert "backward/recurrent_kernel" in table


def test_initial_states_split_half_and_half_and_per_cell() -> None:
    """Keras gives a Bidirectional's first half of the states to the forward layer (here one, for
    a GRU) and the rest to the backward one (an LSTM's two); a stack's states go to its cells in order."""
    document = {
        "inputs": {"x": [5, 3], "h": [4], "c": [6], "g": [6]},
        "layers": [
            {
                "type": "Bidirectional",
                "inputs": ["x"],
                "initial_state": ["h", "c", "g"],
                "layer": {"type": "gru", "units": 4},
                "backward_layer": {"type": "lstm", "units": 6},
            },
            {
                "type": "RNN",
                "name": "stack",
                "inputs": ["x"],
                "initial_state": ["h", "c", "g"],
                "cell": {
                    "type": "stacked_rnn_cells",
                    "cells": [{"type": "gru_cell", "units": 4}, {"type": "lstm_cell", "units": 6}],
                },
            },
        ],
        "outputs": ["bidirectional", "stack"],
    }
    result = propagate(parse_model(json.dumps(document).encode(), "m.json"))
    assert [[str(d) for d in shape] for shape in result.outputs if shape] == [["batch", "10"], ["batch", "6"]]
    document["layers"][1]["initial_state"] = ["h", "c"]
    with pytest.raises(ShapecalcError, match="initial_state takes 3 initial states"):
        propagate(parse_model(json.dumps(document).encode(), "m.json"))
    document["layers"][1]["initial_state"] = ["h", "h", "g"]
    with pytest.raises(ShapecalcError, match=r"initial_state 1 must be \(batch, 6\), got \(batch, 4\)"):
        propagate(parse_model(json.dumps(document).encode(), "m.json"))


ERRORS = [
    (
        {
            "type": "RNN",
            "return_state": True,
            "cell": {
                "type": "stacked_rnn_cells",
                "cells": [{"type": "stacked_rnn_cells", "cells": [{"type": "gru_cell", "units": 3}]}],
            },
        },
        "m.json: layer 1 'rnn': return_state cannot be set with a StackedRNNCells inside a StackedRNNCells",
    ),
    (
        {"type": "lstm_cell", "units": 4},
        "m.json: layer 1 'lstm_cell': is a recurrent cell: it runs only inside an RNN layer (RNN(cell=...))",
    ),
    (
        {"type": "RNN", "cell": {"type": "dense", "units": 4}},
        "m.json: layer 1 'rnn': cell must be a recurrent cell (LSTMCell, GRUCell, SimpleRNNCell or "
        "StackedRNNCells), got Dense",
    ),
    (
        {"type": "RNN", "cell": {"type": "lstm_cell", "units": 0}},
        "m.json: layer 1 'rnn': cell.units must be a positive integer, got 0",
    ),
    (
        {"type": "RNN", "cell": {"type": "stacked_rnn_cells", "cells": [{"type": "gru_cell", "unit": 2}]}},
        "m.json: layer 1 'rnn': cell.cells[0].unit is not an option of GRUCell (did you mean 'units'?)",
    ),
    (
        {"type": "RNN", "cell": {"type": "stacked_rnn_cells", "cells": []}},
        "m.json: layer 1 'rnn': cell.cells must be a list of one or more cells",
    ),
    (
        {"type": "RNN", "cell": {"type": "lstm_cell", "units": 2, "return_sequences": True}},
        "m.json: layer 1 'rnn': cell.return_sequences is not an option of LSTMCell",
    ),
    (
        {
            "type": "Bidirectional",
            "merge_mode": "mul",
            "layer": {"type": "lstm", "units": 4},
            "backward_layer": {"type": "lstm", "units": 5},
        },
        "m.json: layer 1 'bidirectional': merge_mode 'mul' merges outputs of one shape, but the forward "
        "layer returns (batch, 4) and the backward layer (batch, 5)",
    ),
    (
        {
            "type": "Bidirectional",
            "layer": {"type": "lstm", "units": 4, "return_sequences": True},
            "backward_layer": {"type": "lstm", "units": 5},
        },
        "m.json: layer 1 'bidirectional': backward_layer must have the forward layer's return_sequences, "
        "as Keras requires",
    ),
    (
        {
            "type": "Bidirectional",
            "layer": {"type": "lstm", "units": 4},
            "backward_layer": {"type": "dense", "units": 5},
        },
        "m.json: layer 1 'bidirectional': backward_layer wraps a recurrent layer, got Dense",
    ),
    (
        {
            "type": "Bidirectional",
            "layer": {"type": "lstm", "units": 4},
            "backward_layer": {"type": "gru", "units": -1},
        },
        "m.json: layer 1 'bidirectional': backward_layer.units must be a positive integer, got -1",
    ),
]


@pytest.mark.parametrize(("entry", "message"), ERRORS)
def test_mistakes_name_the_option(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapecalcError) as caught:
        _run([entry])
    assert str(caught.value).startswith(message)


def test_a_keras_backward_layer_like_the_forward_one_takes_the_bidirectional_path() -> None:
    """Keras writes a backward layer always; when it is the forward one run backwards, the layer
    is derived as one bidirectional layer (one detail, one gate order)."""
    result = propagate(parse_model((KERAS / "bidirectional_text.json").read_bytes(), "t.json"))
    row = next(row for row in result.rows if row.class_name == "Bidirectional(LSTM)")
    assert row.detail is not None and row.detail.gate_order == "ifco"


# Unknown classes: every one is named, with its layers and the reason.

UNKNOWN_MODEL = {
    "input": [10, 3],
    "layers": [
        {"type": "dense", "units": 4},
        {"type": "MyBlock"},
        {"type": "Lambda", "name": "first"},
        {"type": "dense", "units": 2},
        {"type": "Lambda", "name": "second"},
        {"type": "time_distributed", "layer": {"type": "TFSMLayer"}},
        {"type": "RNN", "cell": {"type": "MinimalRNNCell", "units": 3}},
    ],
}
LAMBDA = "runs Python code, which shapecalc never runs: its output shape is not in its config"


def test_without_skip_unknown_the_error_names_every_unknown_class(run_cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "m.json"
    file.write_text(json.dumps(UNKNOWN_MODEL))
    failed = run_cli("model", str(file))
    assert failed.code == 2 and failed.out == ""
    assert failed.err == (
        "Error: m.json: layer 2 'my_block': unknown layer class 'MyBlock': shapecalc has no shape rule "
        "for it; the model has 4 unknown classes in 5 layers: 'MyBlock' (layer 'my_block'), 'Lambda' "
        "(layers 'first', 'second'), 'TFSMLayer' (layer 'time_distributed'), 'MinimalRNNCell' (layer 'rnn') "
        "(use --skip-unknown to list them and go on)\n"
    )


def test_one_unknown_class_keeps_the_short_error(run_cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "m.json"
    file.write_text(json.dumps({"input": [4], "layers": [{"type": "Lambda"}]}))
    assert run_cli("model", str(file)).err == (
        f"Error: m.json: layer 1 'lambda': unknown layer class 'Lambda': {LAMBDA} "
        "(use --skip-unknown to list it and go on)\n"
    )


def test_skip_unknown_lists_every_unknown_class_with_its_layers(run_cli: Any, tmp_path: Path) -> None:
    file = tmp_path / "m.json"
    file.write_text(json.dumps(UNKNOWN_MODEL))
    done = run_cli("model", str(file), "--skip-unknown", "--format", "json")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    statuses = [(layer["name"], layer.get("status")) for layer in data["layers"]]
    assert statuses == [
        ("input", None),
        ("dense", None),
        ("my_block", "unknown class"),
        ("first", "unknown class"),  # fed by an unknown layer, but its own class is unknown too
        ("dense_1", "unknown input"),
        ("second", "unknown class"),
        ("time_distributed", "unknown class"),
        ("rnn", "unknown class"),
    ]
    assert data["unknown_classes"] == [
        {"class": "MyBlock", "layers": ["my_block"], "reason": "shapecalc has no shape rule for it"},
        {"class": "Lambda", "layers": ["first", "second"], "reason": LAMBDA},
        {
            "class": "TFSMLayer",
            "layers": ["time_distributed"],
            "reason": "wraps a TensorFlow SavedModel: its shapes are in that SavedModel, not in the config",
        },
        {"class": "MinimalRNNCell", "layers": ["rnn"], "reason": "shapecalc has no shape rule for it"},
    ]
    assert data["complete"] is False and data["params"] == 16
    table = run_cli("model", str(file), "--skip-unknown").out
    lines = [line for line in table.splitlines() if line.startswith("unknown class")]
    assert lines[0] == "unknown class MyBlock (layer my_block): shapecalc has no shape rule for it"
    assert lines[1].startswith("unknown class Lambda (layers first, second): runs Python code")
    assert len(lines) == 4
    markdown = run_cli("model", str(file), "--skip-unknown", "--format", "markdown").out
    assert "unknown class MinimalRNNCell (layer rnn)" in markdown


def test_a_complete_model_has_no_unknown_classes_key(run_cli: Any) -> None:
    data = json.loads(run_cli("model", str(KERAS / "rnn_cells.keras"), "--format", "json").out)
    assert data["complete"] is True and "unknown_classes" not in data


def test_an_unknown_class_inside_a_nested_model_marks_the_outer_layer() -> None:
    document = json.loads((KERAS / "nested_cnn_lstm.json").read_text())
    layers = document["config"]["layers"]
    per_frame = next(layer for layer in layers if layer["config"]["name"] == "per_frame")
    per_frame["config"]["layer"]["config"]["layers"][1]["class_name"] = "Lambda"
    text = json.dumps(document).encode()
    with pytest.raises(ShapecalcError, match=r"layer 2 'per_frame': unknown layer class 'Lambda'"):
        propagate(parse_model(text, "n.json"))
    result = propagate(parse_model(text, "n.json"), skip_unknown=True)
    assert [(found.class_name, found.layers) for found in result.unknown_classes] == [
        ("Lambda", ("per_frame",))
    ]
    assert [row.status for row in result.rows][1:] == ["unknown class", "unknown input", "unknown input"]


def test_a_long_listing_names_the_first_few_and_counts_the_rest() -> None:
    from shapecalc.model.result import UnknownClass
    from shapecalc.model.unknown import listing_text

    found = tuple(UnknownClass(f"C{n}", tuple(f"l{n}_{k}" for k in range(n + 1))) for n in range(7))
    text = listing_text(found)
    assert text.startswith("the model has 7 unknown classes in 28 layers: 'C0' (layer 'l0_0'), ")
    assert "'C5' (layers 'l5_0', 'l5_1', 'l5_2', 'l5_3', 'l5_4', 1 more)" not in text  # only five classes
    assert "'C4' (layers 'l4_0', 'l4_1', 'l4_2', 'l4_3', 'l4_4')" in text
    assert text.endswith(", and 2 more")
    assert listing_text((UnknownClass("A", ("a",)),)) == ""
