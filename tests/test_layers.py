"""Known-true shapes of every layer kind, in both conventions, checked without the frameworks.

Every entry of ``KNOWN`` was read off a real layer (Keras 3.15 on the torch
backend, PyTorch 2.13) built with batch 2 and 3 time steps: its weights by name
(in the framework's order), its outputs in the order the layer returns them,
and its parameter count. ``tests/oracle/test_oracle_known_layers.py`` rebuilds
every entry in the real framework, so the table cannot drift from the truth.
The rest checks gate orders in every format and the one-line refusals of
option combinations the frameworks do not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from shapecalc import ShapecalcError, shapes

BATCH, STEPS = 2, 3


@dataclass(frozen=True)
class Known:
    kind: str
    options: dict[str, Any]
    weights: dict[str, tuple[int, ...]]
    outputs: list[tuple[int, ...]]
    params: int


KNOWN = [
    Known(
        "lstm",
        {"units": 32, "input_dim": 20},
        weights={"kernel": (20, 128), "recurrent_kernel": (32, 128), "bias": (128,)},
        outputs=[(2, 32)],
        params=6784,
    ),
    Known(
        "lstm",
        {"units": 4, "input_dim": 3, "return_sequences": True, "return_state": True},
        weights={"kernel": (3, 16), "recurrent_kernel": (4, 16), "bias": (16,)},
        outputs=[(2, 3, 4), (2, 4), (2, 4)],
        params=128,
    ),
    Known(
        "lstm",
        {"units": 4, "input_dim": 3, "use_bias": False},
        weights={"kernel": (3, 16), "recurrent_kernel": (4, 16)},
        outputs=[(2, 4)],
        params=112,
    ),
    Known(
        "gru",
        {"units": 32, "input_dim": 20},
        weights={"kernel": (20, 96), "recurrent_kernel": (32, 96), "bias": (2, 96)},
        outputs=[(2, 32)],
        params=5184,
    ),
    Known(
        "gru",
        {"units": 32, "input_dim": 20, "reset_after": False},
        weights={"kernel": (20, 96), "recurrent_kernel": (32, 96), "bias": (96,)},
        outputs=[(2, 32)],
        params=5088,
    ),
    Known(
        "gru",
        {"units": 5, "input_dim": 3, "use_bias": False, "return_state": True},
        weights={"kernel": (3, 15), "recurrent_kernel": (5, 15)},
        outputs=[(2, 5), (2, 5)],
        params=120,
    ),
    Known(
        "rnn",
        {"units": 32, "input_dim": 20},
        weights={"kernel": (20, 32), "recurrent_kernel": (32, 32), "bias": (32,)},
        outputs=[(2, 32)],
        params=1696,
    ),
    Known(
        "rnn",
        {"units": 6, "input_dim": 2, "use_bias": False, "return_sequences": True, "return_state": True},
        weights={"kernel": (2, 6), "recurrent_kernel": (6, 6)},
        outputs=[(2, 3, 6), (2, 6)],
        params=48,
    ),
    Known(
        "lstm",
        {"units": 4, "input_dim": 3, "bidirectional": True},
        weights={
            "forward/kernel": (3, 16),
            "forward/recurrent_kernel": (4, 16),
            "forward/bias": (16,),
            "backward/kernel": (3, 16),
            "backward/recurrent_kernel": (4, 16),
            "backward/bias": (16,),
        },
        outputs=[(2, 8)],
        params=256,
    ),
    Known(
        "lstm",
        {"units": 4, "input_dim": 3, "bidirectional": True, "merge_mode": "sum", "return_sequences": True},
        weights={
            "forward/kernel": (3, 16),
            "forward/recurrent_kernel": (4, 16),
            "forward/bias": (16,),
            "backward/kernel": (3, 16),
            "backward/recurrent_kernel": (4, 16),
            "backward/bias": (16,),
        },
        outputs=[(2, 3, 4)],
        params=256,
    ),
    Known(
        "gru",
        {"units": 4, "input_dim": 3, "bidirectional": True, "merge_mode": "none", "return_state": True},
        weights={
            "forward/kernel": (3, 12),
            "forward/recurrent_kernel": (4, 12),
            "forward/bias": (2, 12),
            "backward/kernel": (3, 12),
            "backward/recurrent_kernel": (4, 12),
            "backward/bias": (2, 12),
        },
        outputs=[(2, 4), (2, 4), (2, 4), (2, 4)],
        params=216,
    ),
    Known(
        "rnn",
        {"units": 4, "input_dim": 3, "bidirectional": True, "merge_mode": "ave", "return_state": True},
        weights={
            "forward/kernel": (3, 4),
            "forward/recurrent_kernel": (4, 4),
            "forward/bias": (4,),
            "backward/kernel": (3, 4),
            "backward/recurrent_kernel": (4, 4),
            "backward/bias": (4,),
        },
        outputs=[(2, 4), (2, 4), (2, 4)],
        params=64,
    ),
    Known(
        "lstm",
        {"units": 4, "input_dim": 3, "bidirectional": True, "merge_mode": "mul", "return_state": True},
        weights={
            "forward/kernel": (3, 16),
            "forward/recurrent_kernel": (4, 16),
            "forward/bias": (16,),
            "backward/kernel": (3, 16),
            "backward/recurrent_kernel": (4, 16),
            "backward/bias": (16,),
        },
        outputs=[(2, 4), (2, 4), (2, 4), (2, 4), (2, 4)],
        params=256,
    ),
    Known(
        "convlstm1d",
        {"filters": 8, "kernel": (3,), "input": (100, 3)},
        weights={"kernel": (3, 3, 32), "recurrent_kernel": (3, 8, 32), "bias": (32,)},
        outputs=[(2, 98, 8)],
        params=1088,
    ),
    Known(
        "convlstm1d",
        {
            "filters": 2,
            "kernel": (3,),
            "input": (4, 10),
            "data_format": "channels_first",
            "strides": (2,),
            "padding": "same",
        },
        weights={"kernel": (3, 4, 8), "recurrent_kernel": (3, 2, 8), "bias": (8,)},
        outputs=[(2, 2, 5)],
        params=152,
    ),
    Known(
        "convlstm",
        {"filters": 8, "kernel": (3, 3), "input": (128, 128, 3)},
        weights={"kernel": (3, 3, 3, 32), "recurrent_kernel": (3, 3, 8, 32), "bias": (32,)},
        outputs=[(2, 126, 126, 8)],
        params=3200,
    ),
    Known(
        "convlstm2d",
        {
            "filters": 4,
            "kernel": (3, 2),
            "input": (9, 8, 2),
            "strides": (2, 3),
            "return_sequences": True,
            "return_state": True,
        },
        weights={"kernel": (3, 2, 2, 16), "recurrent_kernel": (3, 2, 4, 16), "bias": (16,)},
        outputs=[(2, 3, 4, 3, 4), (2, 4, 3, 4), (2, 4, 3, 4)],
        params=592,
    ),
    Known(
        "convlstm2d",
        {
            "filters": 3,
            "kernel": (3, 3),
            "input": (2, 10, 9),
            "data_format": "channels_first",
            "dilation": (2, 1),
            "use_bias": False,
        },
        weights={"kernel": (3, 3, 2, 12), "recurrent_kernel": (3, 3, 3, 12)},
        outputs=[(2, 3, 6, 7)],
        params=540,
    ),
    Known(
        "convlstm2d",
        {
            "filters": 2,
            "kernel": (3, 3),
            "input": (3, 7, 6),
            "data_format": "channels_first",
            "bidirectional": True,
        },
        weights={
            "forward/kernel": (3, 3, 3, 8),
            "forward/recurrent_kernel": (3, 3, 2, 8),
            "forward/bias": (8,),
            "backward/kernel": (3, 3, 3, 8),
            "backward/recurrent_kernel": (3, 3, 2, 8),
            "backward/bias": (8,),
        },
        outputs=[(2, 2, 5, 8)],
        params=736,
    ),
    Known(
        "convlstm2d",
        {
            "filters": 2,
            "kernel": (2, 2),
            "input": (5, 6, 1),
            "padding": "same",
            "bidirectional": True,
            "merge_mode": "none",
            "return_state": True,
        },
        weights={
            "forward/kernel": (2, 2, 1, 8),
            "forward/recurrent_kernel": (2, 2, 2, 8),
            "forward/bias": (8,),
            "backward/kernel": (2, 2, 1, 8),
            "backward/recurrent_kernel": (2, 2, 2, 8),
            "backward/bias": (8,),
        },
        outputs=[(2, 5, 6, 2), (2, 5, 6, 2), (2, 5, 6, 2), (2, 5, 6, 2), (2, 5, 6, 2), (2, 5, 6, 2)],
        params=208,
    ),
    Known(
        "convlstm3d",
        {"filters": 4, "kernel": (3, 3, 3), "input": (16, 32, 32, 1)},
        weights={"kernel": (3, 3, 3, 1, 16), "recurrent_kernel": (3, 3, 3, 4, 16), "bias": (16,)},
        outputs=[(2, 14, 30, 30, 4)],
        params=2176,
    ),
    Known(
        "convlstm3d",
        {
            "filters": 2,
            "kernel": (2, 3, 1),
            "input": (1, 5, 7, 6),
            "data_format": "channels_first",
            "strides": (1, 2, 3),
            "padding": "same",
            "return_sequences": True,
        },
        weights={"kernel": (2, 3, 1, 1, 8), "recurrent_kernel": (2, 3, 1, 2, 8), "bias": (8,)},
        outputs=[(2, 3, 2, 5, 4, 2)],
        params=152,
    ),
    Known(
        "lstm",
        {"framework": "torch", "hidden_size": 32, "input_size": 20},
        weights={
            "weight_ih_l0": (128, 20),
            "weight_hh_l0": (128, 32),
            "bias_ih_l0": (128,),
            "bias_hh_l0": (128,),
        },
        outputs=[(3, 2, 32), (1, 2, 32), (1, 2, 32)],
        params=6912,
    ),
    Known(
        "gru",
        {"framework": "torch", "hidden_size": 32, "input_size": 20},
        weights={
            "weight_ih_l0": (96, 20),
            "weight_hh_l0": (96, 32),
            "bias_ih_l0": (96,),
            "bias_hh_l0": (96,),
        },
        outputs=[(3, 2, 32), (1, 2, 32)],
        params=5184,
    ),
    Known(
        "rnn",
        {"framework": "torch", "hidden_size": 32, "input_size": 20},
        weights={
            "weight_ih_l0": (32, 20),
            "weight_hh_l0": (32, 32),
            "bias_ih_l0": (32,),
            "bias_hh_l0": (32,),
        },
        outputs=[(3, 2, 32), (1, 2, 32)],
        params=1728,
    ),
    Known(
        "lstm",
        {"framework": "torch", "hidden_size": 8, "input_size": 3, "num_layers": 2, "bidirectional": True},
        weights={
            "weight_ih_l0": (32, 3),
            "weight_hh_l0": (32, 8),
            "bias_ih_l0": (32,),
            "bias_hh_l0": (32,),
            "weight_ih_l0_reverse": (32, 3),
            "weight_hh_l0_reverse": (32, 8),
            "bias_ih_l0_reverse": (32,),
            "bias_hh_l0_reverse": (32,),
            "weight_ih_l1": (32, 16),
            "weight_hh_l1": (32, 8),
            "bias_ih_l1": (32,),
            "bias_hh_l1": (32,),
            "weight_ih_l1_reverse": (32, 16),
            "weight_hh_l1_reverse": (32, 8),
            "bias_ih_l1_reverse": (32,),
            "bias_hh_l1_reverse": (32,),
        },
        outputs=[(3, 2, 16), (4, 2, 8), (4, 2, 8)],
        params=2496,
    ),
    Known(
        "lstm",
        {
            "framework": "torch",
            "hidden_size": 8,
            "input_size": 3,
            "num_layers": 2,
            "bidirectional": True,
            "proj_size": 4,
            "batch_first": True,
        },
        weights={
            "weight_ih_l0": (32, 3),
            "weight_hh_l0": (32, 4),
            "bias_ih_l0": (32,),
            "bias_hh_l0": (32,),
            "weight_hr_l0": (4, 8),
            "weight_ih_l0_reverse": (32, 3),
            "weight_hh_l0_reverse": (32, 4),
            "bias_ih_l0_reverse": (32,),
            "bias_hh_l0_reverse": (32,),
            "weight_hr_l0_reverse": (4, 8),
            "weight_ih_l1": (32, 8),
            "weight_hh_l1": (32, 4),
            "bias_ih_l1": (32,),
            "bias_hh_l1": (32,),
            "weight_hr_l1": (4, 8),
            "weight_ih_l1_reverse": (32, 8),
            "weight_hh_l1_reverse": (32, 4),
            "bias_ih_l1_reverse": (32,),
            "bias_hh_l1_reverse": (32,),
            "weight_hr_l1_reverse": (4, 8),
        },
        outputs=[(2, 3, 8), (4, 2, 4), (4, 2, 8)],
        params=1600,
    ),
    Known(
        "lstm",
        {"framework": "torch", "hidden_size": 6, "input_size": 5, "proj_size": 2, "use_bias": False},
        weights={"weight_ih_l0": (24, 5), "weight_hh_l0": (24, 2), "weight_hr_l0": (2, 6)},
        outputs=[(3, 2, 2), (1, 2, 2), (1, 2, 6)],
        params=180,
    ),
    Known(
        "gru",
        {"framework": "torch", "hidden_size": 5, "input_size": 4, "num_layers": 3, "batch_first": True},
        weights={
            "weight_ih_l0": (15, 4),
            "weight_hh_l0": (15, 5),
            "bias_ih_l0": (15,),
            "bias_hh_l0": (15,),
            "weight_ih_l1": (15, 5),
            "weight_hh_l1": (15, 5),
            "bias_ih_l1": (15,),
            "bias_hh_l1": (15,),
            "weight_ih_l2": (15, 5),
            "weight_hh_l2": (15, 5),
            "bias_ih_l2": (15,),
            "bias_hh_l2": (15,),
        },
        outputs=[(2, 3, 5), (3, 2, 5)],
        params=525,
    ),
    Known(
        "gru",
        {"framework": "torch", "hidden_size": 5, "input_size": 4, "bidirectional": True, "use_bias": False},
        weights={
            "weight_ih_l0": (15, 4),
            "weight_hh_l0": (15, 5),
            "weight_ih_l0_reverse": (15, 4),
            "weight_hh_l0_reverse": (15, 5),
        },
        outputs=[(3, 2, 10), (2, 2, 5)],
        params=270,
    ),
    Known(
        "rnn",
        {
            "framework": "torch",
            "hidden_size": 7,
            "input_size": 2,
            "num_layers": 2,
            "bidirectional": True,
            "batch_first": True,
        },
        weights={
            "weight_ih_l0": (7, 2),
            "weight_hh_l0": (7, 7),
            "bias_ih_l0": (7,),
            "bias_hh_l0": (7,),
            "weight_ih_l0_reverse": (7, 2),
            "weight_hh_l0_reverse": (7, 7),
            "bias_ih_l0_reverse": (7,),
            "bias_hh_l0_reverse": (7,),
            "weight_ih_l1": (7, 14),
            "weight_hh_l1": (7, 7),
            "bias_ih_l1": (7,),
            "bias_hh_l1": (7,),
            "weight_ih_l1_reverse": (7, 14),
            "weight_hh_l1_reverse": (7, 7),
            "bias_ih_l1_reverse": (7,),
            "bias_hh_l1_reverse": (7,),
        },
        outputs=[(2, 3, 14), (4, 2, 7)],
        params=476,
    ),
    # ONNX: read off the operator spec and onnx.shape_inference; onnxruntime runs every layout 0 entry.
    Known(
        "lstm",
        {"framework": "onnx", "hidden_size": 32, "input_size": 20},
        weights={"W": (1, 128, 20), "R": (1, 128, 32), "B": (1, 256)},
        outputs=[(3, 1, 2, 32), (1, 2, 32), (1, 2, 32)],
        params=6912,
    ),
    Known(
        "lstm",
        {"framework": "onnx", "hidden_size": 4, "input_size": 3, "bidirectional": True, "peepholes": True},
        weights={"W": (2, 16, 3), "R": (2, 16, 4), "B": (2, 32), "P": (2, 12)},
        outputs=[(3, 2, 2, 4), (2, 2, 4), (2, 2, 4)],
        params=312,
    ),
    Known(
        "gru",
        {"framework": "onnx", "hidden_size": 32, "input_size": 20},
        weights={"W": (1, 96, 20), "R": (1, 96, 32), "B": (1, 192)},
        outputs=[(3, 1, 2, 32), (1, 2, 32)],
        params=5184,
    ),
    Known(
        "gru",
        {
            "framework": "onnx",
            "hidden_size": 5,
            "input_size": 4,
            "direction": "reverse",
            "layout": 1,
            "use_bias": False,
            "linear_before_reset": True,
        },
        weights={"W": (1, 15, 4), "R": (1, 15, 5)},
        outputs=[(2, 3, 1, 5), (2, 1, 5)],
        params=135,
    ),
    Known(
        "rnn",
        {"framework": "onnx", "hidden_size": 8, "input_size": 3, "bidirectional": True},
        weights={"W": (2, 8, 3), "R": (2, 8, 8), "B": (2, 16)},
        outputs=[(3, 2, 2, 8), (2, 2, 8)],
        params=208,
    ),
]


@pytest.mark.parametrize("known", KNOWN, ids=[f"{k.kind}-{i}" for i, k in enumerate(KNOWN)])
def test_known_layer(known: Known) -> None:
    result = shapes(known.kind, batch=BATCH, timesteps=STEPS, **known.options)
    weights = [(t.name, t.shape) for t in result.tensors if t.role == "weight"]
    assert weights == list(known.weights.items())
    assert [result.tensor(name).shape for name in result.outputs] == known.outputs
    assert result.params == known.params


#: Gate letters in the order each framework fuses them, and the table's footer line.
GATE_ORDERS = [
    (("lstm", "--units", "4", "--input-dim", "3"), ["i", "f", "c", "o"]),
    (("gru", "--units", "4", "--input-dim", "3"), ["z", "r", "h"]),
    (("rnn", "--units", "4", "--input-dim", "3"), []),
    (("convlstm1d", "--filters", "2", "--kernel", "3", "--input", "9", "2"), ["i", "f", "c", "o"]),
    (("convlstm", "--filters", "2", "--kernel", "3", "3", "--input", "9", "9", "2"), ["i", "f", "c", "o"]),
    (
        ("convlstm3d", "--filters", "2", "--kernel", "3", "3", "3", "--input", "4", "9", "9", "2"),
        ["i", "f", "c", "o"],
    ),
    (("lstm", "--framework", "torch", "--hidden-size", "4", "--input-size", "3"), ["i", "f", "g", "o"]),
    (("gru", "--framework", "torch", "--hidden-size", "4", "--input-size", "3"), ["r", "z", "n"]),
    (("rnn", "--framework", "torch", "--hidden-size", "4", "--input-size", "3"), []),
    (("lstm", "--framework", "onnx", "--hidden-size", "4", "--input-size", "3"), ["i", "o", "f", "c"]),
    (("gru", "--framework", "onnx", "--hidden-size", "4", "--input-size", "3"), ["z", "r", "h"]),
    (("rnn", "--framework", "onnx", "--hidden-size", "4", "--input-size", "3"), []),
]


@pytest.mark.parametrize(("args", "gates"), GATE_ORDERS, ids=lambda v: " ".join(v[:3]))
def test_every_format_states_the_gate_order(run_cli, args: tuple[str, ...], gates: list[str]) -> None:
    result = run_cli(*args, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["gate_order"] == gates
    assert [t["name"] for t in data["tensors"] if t["role"] == "gate"] == [f"gate_{g}" for g in gates]
    line = f"gate order: {', '.join(gates)}"
    for fmt in ("table", "markdown"):
        result = run_cli(*args, "--format", fmt)
        assert result.code == 0, result.err
        assert (line in result.out) == bool(gates), result.out


def test_gate_slices_sit_where_each_framework_fuses_them() -> None:
    keras = shapes("lstm", units=4, input_dim=3)
    assert [(t.name, t.index) for t in keras.tensors if t.slice_of == "kernel"] == [
        ("kernel_i", "[:, 0:4]"),
        ("kernel_f", "[:, 4:8]"),
        ("kernel_c", "[:, 8:12]"),
        ("kernel_o", "[:, 12:16]"),
    ]
    gru = shapes("gru", units=4, input_dim=3)
    assert [(t.name, t.shape, t.index) for t in gru.tensors if t.slice_of == "bias"] == [
        ("bias_z", (2, 4), "[:, 0:4]"),
        ("bias_r", (2, 4), "[:, 4:8]"),
        ("bias_h", (2, 4), "[:, 8:12]"),
    ]
    torch = shapes("gru", framework="torch", hidden_size=4, input_size=3)
    assert [(t.name, t.shape, t.index) for t in torch.tensors if t.slice_of == "weight_ih_l0"] == [
        ("weight_ih_l0_r", (4, 3), "[0:4]"),
        ("weight_ih_l0_z", (4, 3), "[4:8]"),
        ("weight_ih_l0_n", (4, 3), "[8:12]"),
    ]


def test_onnx_slices_sit_after_the_direction_axis_with_the_specs_names() -> None:
    lstm = shapes("lstm", framework="onnx", hidden_size=4, input_size=3, bidirectional=True, peepholes=True)
    assert [(t.name, t.shape, t.index) for t in lstm.tensors if t.slice_of == "W"] == [
        ("Wi", (4, 3), "[0, 0:4]"),
        ("Wo", (4, 3), "[0, 4:8]"),
        ("Wf", (4, 3), "[0, 8:12]"),
        ("Wc", (4, 3), "[0, 12:16]"),
        ("WBi", (4, 3), "[1, 0:4]"),
        ("WBo", (4, 3), "[1, 4:8]"),
        ("WBf", (4, 3), "[1, 8:12]"),
        ("WBc", (4, 3), "[1, 12:16]"),
    ]
    biases = [(t.name, t.index) for t in lstm.tensors if t.slice_of == "B"]
    assert biases[:5] == [
        ("Wbi", "[0, 0:4]"), ("Wbo", "[0, 4:8]"), ("Wbf", "[0, 8:12]"), ("Wbc", "[0, 12:16]"),
        ("Rbi", "[0, 16:20]"),
    ]  # fmt: skip
    assert biases[8:10] == [("WBbi", "[1, 0:4]"), ("WBbo", "[1, 4:8]")]
    assert [(t.name, t.index) for t in lstm.tensors if t.slice_of == "P"] == [
        ("Pi", "[0, 0:4]"), ("Po", "[0, 4:8]"), ("Pf", "[0, 8:12]"),
        ("PBi", "[1, 0:4]"), ("PBo", "[1, 4:8]"), ("PBf", "[1, 8:12]"),
    ]  # fmt: skip
    rnn = shapes("rnn", framework="onnx", hidden_size="H", input_size=3, direction="bidirectional")
    assert [(t.name, t.index, t.gate) for t in rnn.tensors if t.slice_of == "W"] == [
        ("Wi", "[0]", None),
        ("WBi", "[1]", None),
    ]
    indices = [t.index for t in rnn.tensors if t.slice_of == "B"]
    assert indices == ["[0, 0:H]", "[0, H:H*2]", "[1, 0:H]", "[1, H:H*2]"]


def test_onnx_layout_1_puts_the_batch_first() -> None:
    result = shapes("lstm", framework="onnx", hidden_size=4, input_size=3, layout=1, batch="N", timesteps="T")
    shapes_ = {name: result.tensor(name).shape for name in ("X", "initial_h", "Y", "Y_h", "Y_c")}
    assert {name: tuple(map(str, shape)) for name, shape in shapes_.items()} == {
        "X": ("N", "T", "3"),
        "initial_h": ("N", "1", "4"),
        "Y": ("N", "T", "1", "4"),
        "Y_h": ("N", "1", "4"),
        "Y_c": ("N", "1", "4"),
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"num_layers": 2},
            "(it applies to framework torch; an ONNX LSTM, GRU or RNN node is one layer: stack nodes)",
        ),
        ({"return_state": True}, "ONNX always returns Y, Y_h (and Y_c)"),
        (
            {"bidirectional": True, "direction": "reverse"},
            "bidirectional: means direction='bidirectional': "
            "give bidirectional or direction='reverse', not both",
        ),
        ({"layout": 2}, "layout: must be one of 0, 1, got 2"),
        (
            {"proj_size": 2},
            "proj_size: is not an option of lstm with framework onnx (it applies to "
            "framework torch; ONNX LSTM has no projection)",
        ),
    ],
)
def test_onnx_refuses_what_the_operator_lacks(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapecalcError) as raised:
        shapes("lstm", framework="onnx", hidden_size=4, input_size=3, **options)
    assert message in str(raised.value)


def test_onnx_gru_refuses_peepholes_and_keras_refuses_linear_before_reset() -> None:
    with pytest.raises(ShapecalcError, match="peepholes: applies to lstm only"):
        shapes("gru", framework="onnx", hidden_size=4, input_size=3, peepholes=True)
    with pytest.raises(ShapecalcError, match="reset_after=True is linear_before_reset=1"):
        shapes("gru", framework="onnx", hidden_size=4, input_size=3, reset_after=False)
    with pytest.raises(ShapecalcError, match="Keras GRU has reset_after instead"):
        shapes("gru", units=4, input_dim=3, linear_before_reset=True)


def test_bidirectional_names_both_directions() -> None:
    result = shapes("gru", units=4, input_dim=3, bidirectional=True, merge_mode="none", return_state=True)
    weights = [t.name for t in result.tensors if t.role == "weight"]
    assert weights == [
        f"{d}/{w}" for d in ("forward", "backward") for w in ("kernel", "recurrent_kernel", "bias")
    ]
    assert result.outputs == (
        "forward/output",
        "backward/output",
        "forward/hidden_state",
        "backward/hidden_state",
    )
    assert result.tensor("forward/kernel_z").slice_of == "forward/kernel"


def test_symbolic_projection_reports_when_pytorch_accepts_it() -> None:
    result = shapes("lstm", framework="torch", hidden_size="H", input_size=3, proj_size="P")
    assert result.constraints == ("H >= P + 1",)
    assert result.tensor("weight_hr_l0").shape == (
        result.tensor("h_n").shape[2],
        result.tensor("c_n").shape[2],
    )
    assert shapes("lstm", framework="torch", hidden_size=8, input_size=3, proj_size=4).constraints == ()


TORCH = ("--framework", "torch", "--hidden-size", "8", "--input-size", "4")
KERAS = ("--units", "8", "--input-dim", "4")

#: Option combinations no framework has: (arguments, the option named, what the line must say).
REFUSALS = [
    (("lstm", *KERAS, "--batch-first"), "--batch-first", "Keras inputs are always batch first"),
    (("lstm", *KERAS, "--proj-size", "4"), "--proj-size", "Keras LSTM has no projection"),
    (("gru", *KERAS, "--num-layers", "2"), "--num-layers", "stack one layer per level"),
    (("lstm", *TORCH, "--return-sequences"), "--return-sequences", "PyTorch always returns every step"),
    (("rnn", *TORCH, "--merge-mode", "sum", "--bidirectional"), "--merge-mode", "always concatenates"),
    (("gru", *TORCH, "--no-reset-after"), "--no-reset-after", "like reset_after=True"),
    (("lstm", *TORCH, "--proj-size", "9"), "--proj-size", "must be smaller than hidden_size (8), got 9"),
    (("lstm", *KERAS, "--merge-mode", "ave"), "--merge-mode", "applies only with bidirectional"),
    (
        ("convlstm1d", "--filters", "2", "--kernel", "3", "--input", "9", "2", "--padding", "causal"),
        "--padding",
        "accept only 'valid' and 'same'",
    ),
    (
        (
            "convlstm3d",
            "--framework",
            "torch",
            "--filters",
            "2",
            "--kernel",
            "1",
            "1",
            "1",
            "--input",
            "1",
            "1",
            "1",
            "1",
        ),
        "--framework",
        "PyTorch has no ConvLSTM",
    ),
]


@pytest.mark.parametrize(("args", "option", "says"), REFUSALS, ids=lambda v: " ".join(v[:1]))
def test_combinations_the_frameworks_lack_are_one_line_errors(run_cli, args, option: str, says: str) -> None:
    result = run_cli(*args)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"Error: Invalid value for '{option}': "), result.err
    assert says in result.err and result.err.count("\n") == 1, result.err


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_only_lstm_has_a_projection(run_cli, cell: str) -> None:
    """The gru and rnn commands have no --proj-size; the API and batch mode say why."""
    assert "--proj-size" not in run_cli(cell, "--help").out
    assert "No such option '--proj-size'" in run_cli(cell, *TORCH, "--proj-size", "2").err
    module = {"gru": "nn.GRU", "rnn": "nn.RNN"}[cell]
    with pytest.raises(ShapecalcError, match=f"proj_size: only LSTM supports a projection [(]{module}"):
        shapes(cell, framework="torch", hidden_size=8, input_size=4, proj_size=2)


def test_the_api_refuses_the_same_combinations() -> None:
    with pytest.raises(ShapecalcError, match="it applies to framework torch"):
        shapes("lstm", units=4, input_dim=3, num_layers=2)
    with pytest.raises(ShapecalcError, match="merge_mode: applies only with bidirectional"):
        shapes("gru", units=4, input_dim=3, merge_mode="sum")


def test_proj_size_zero_means_no_projection_as_in_pytorch(run_cli) -> None:
    # nn.LSTM(4, 8, proj_size=0) has 448 parameters and no weight_hr_l0.
    done = run_cli(
        "lstm",
        "--framework",
        "torch",
        "--hidden-size",
        "8",
        "--input-size",
        "4",
        "--proj-size",
        "0",
        "--format",
        "json",
    )
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert data["params"] == 448
    assert [t["name"] for t in data["tensors"] if t["role"] == "weight"] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
    ]


@pytest.mark.parametrize(
    ("options", "option", "says"),
    [
        (
            {"framework": "torch", "hidden_size": "H", "input_size": 3, "proj_size": "H"},
            "proj_size",
            "must be smaller than hidden_size (H), got H",
        ),
        (
            {"framework": "torch", "hidden_size": "H", "input_size": 3, "proj_size": "H + 2"},
            "proj_size",
            "must be smaller than hidden_size (H), got H + 2",
        ),
    ],
)
def test_a_condition_no_sizes_can_meet_is_refused(options, option: str, says: str) -> None:
    """A symbolic config whose condition holds for no positive sizes is refused like a numeric one."""
    with pytest.raises(ShapecalcError) as raised:
        shapes("lstm", **options)
    assert (raised.value.option, raised.value.message) == (option, says)


def test_a_dilated_kernel_that_can_never_fit_is_refused() -> None:
    never = r"kernel_size: 3 \(dilated to D\*2 \+ 1\) is larger than the input's rows 2"
    with pytest.raises(ShapecalcError, match=never):
        shapes("convlstm", filters=2, kernel_size=3, input_shape=(2, 9, 1), dilation_rate=("D", 1))
    fits = shapes("convlstm", filters=2, kernel_size=3, input_shape=("W", 9, 1), dilation_rate=("D", 1))
    assert fits.constraints == ("W >= D*2 + 1",)
