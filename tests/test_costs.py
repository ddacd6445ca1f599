"""Costs: MACs, FLOPs and bytes pinned to hand-computed values.

The counting rules (shapecalc/costs.py, docs/costs.md):
MACs = batch * T * positions * (kernel elements); FLOPs = 2 * MACs + bias
elements used + element-wise ops (LSTM 9, GRU 8, RNN 1 per unit and step,
times layers * directions); bytes = elements * itemsize.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.api import shapes
from shapecalc.costs import ITEMSIZES
from shapecalc.dims import evaluate, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.options import OPTIONS

# (kind, options, dtype, macs, flops, weight_bytes, step_bytes, sequence_bytes)
KNOWN = [
    pytest.param(
        "lstm",
        {"units": 32, "input_dim": 20},
        "float32",
        "batch*timestep*6656",  # 4*32*(20 + 32) = 6656
        "batch*timestep*13728",  # 2*6656 + bias 4*32 + 9*32 = 13312 + 128 + 288
        27136,  # params 20*128 + 32*128 + 128 = 6784; * 4
        "batch*768",  # (4 gates + h + c) * 32 = 192 elements; * 4
        "batch*timestep*768",
        id="keras-lstm-notes",
    ),
    pytest.param(
        "lstm",
        {"units": 32, "input_dim": 20, "batch": 8, "timesteps": 100},
        "float16",
        5_324_800,  # 8*100*6656
        10_982_400,  # 8*100*13728
        13_568,  # 6784 * 2
        3_072,  # 8 * 192 * 2
        307_200,  # 3072 * 100
        id="keras-lstm-numeric-float16",
    ),
    pytest.param(
        "lstm",
        {"units": 32, "input_dim": 20, "batch": 1, "timesteps": 1, "bidirectional": True},
        "float32",
        13_312,  # 2 directions * 6656
        27_456,  # 2 * 13728
        54_272,  # 2 * 6784 * 4
        1_536,  # 2 * 192 * 4
        1_536,
        id="keras-lstm-bidirectional",
    ),
    pytest.param(
        "gru",
        {"units": 32, "input_dim": 20, "batch": 1, "timesteps": 1},
        "float32",
        4_992,  # 3*32*(20 + 32)
        10_432,  # 2*4992 + bias 2*96 + 8*32 = 9984 + 192 + 256
        20_736,  # 20*96 + 32*96 + 2*96 = 5184; * 4
        512,  # (3 gates + h) * 32 = 128; * 4
        512,
        id="keras-gru-reset-after",
    ),
    pytest.param(
        "gru",
        {"units": 32, "input_dim": 20, "batch": 1, "timesteps": 1, "reset_after": False},
        "float32",
        4_992,  # (r ⊙ h)·U_h still multiplies 32*32: 3*32*52
        10_336,  # 9984 + bias 96 + 256
        20_352,  # 5088 * 4
        512,
        512,
        id="keras-gru-no-reset-after",
    ),
    pytest.param(
        "rnn",
        {"units": 32, "input_dim": 20, "batch": 1, "timesteps": 1, "use_bias": False},
        "float64",
        1_664,  # 32*(20 + 32)
        3_360,  # 2*1664 + 0 bias + 1*32 (tanh)
        13_312,  # 1664 * 8
        256,  # h: 32 * 8
        256,
        id="keras-rnn-no-bias-float64",
    ),
    pytest.param(
        "convlstm",
        {"filters": 8, "kernel": (3, 3), "input": (128, 128, 3), "batch": 8, "timesteps": 100},
        "float32",
        40_236_134_400,  # 8*100 * 126*126 positions * (3*3*3*32 + 3*3*8*32) = 800 * 15876 * 3168
        81_793_152_000,  # 800 * 15876 * (2*3168 + bias 32 + 9*8) = 800 * 15876 * 6440
        12_800,  # (864 + 2304 + 32) * 4
        24_385_536,  # 8 * 15876 * 6*8 elements * 4
        2_438_553_600,  # * 100
        id="keras-convlstm2d-notes",
    ),
    pytest.param(
        "convlstm",
        {"filters": 8, "kernel": (3, 3), "input": ("W", "H", 3)},
        "bfloat16",
        "batch*timestep*(H - 2)*(W - 2)*3168",
        "batch*timestep*(H - 2)*(W - 2)*6440",
        6_400,  # 3200 * 2
        "batch*(H - 2)*(W - 2)*96",  # 48 elements * 2
        "batch*timestep*(H - 2)*(W - 2)*96",
        id="keras-convlstm2d-symbolic",
    ),
    pytest.param(
        "convlstm1d",
        {
            "filters": 4,
            "kernel": 3,
            "input": (10, 2),
            "padding": "same",
            "strides": 2,
            "batch": 1,
            "timesteps": 1,
        },
        "float32",
        1_440,  # ceil(10/2) = 5 positions * (3*2*16 + 3*4*16) = 5 * 288
        3_140,  # 5 * (2*288 + bias 16 + 9*4) = 5 * 628
        1_216,  # (96 + 192 + 16) * 4
        480,  # 5 positions * (4 gates + h + c) * 4 filters * 4 bytes
        480,
        id="keras-convlstm1d-same-strided",
    ),
    pytest.param(
        "lstm",
        {"framework": "torch", "hidden_size": 32, "input_size": 20},
        "float32",
        "batch*timestep*6656",  # 128*20 + 128*32
        "batch*timestep*13856",  # 2*6656 + bias_ih 128 + bias_hh 128 + 9*32
        27_648,  # 6912 * 4
        "batch*768",
        "batch*timestep*768",
        id="torch-lstm",
    ),
    pytest.param(
        "lstm",
        {
            "framework": "torch",
            "hidden_size": 32,
            "input_size": 20,
            "proj_size": 8,
            "num_layers": 2,
            "bidirectional": True,
            "batch": 1,
            "timesteps": 1,
        },
        "float32",
        # l0: 128*20 + 128*8 + 8*32 = 3840; l1 (input 2*8): 128*16 + 128*8 + 8*32 = 3328; 2 directions
        14_336,
        30_848,  # 2*14336 + 4 cells * 256 bias + 4 cells * 9*32
        61_440,  # 15360 * 4
        2_688,  # 4 cells * (4*32 gates + 8 h + 32 c) * 4
        2_688,
        id="torch-lstm-projection-stacked-bidirectional",
    ),
    pytest.param(
        "gru",
        {"framework": "torch", "hidden_size": 32, "input_size": 20, "batch": 2, "timesteps": 3},
        "float32",
        29_952,  # 6 * 96*(20 + 32)
        62_592,  # 6 * (2*4992 + 192 + 8*32) = 6 * 10432
        20_736,  # 5184 * 4
        1_024,  # 2 * (3 gates + h) * 32 * 4
        3_072,
        id="torch-gru",
    ),
    pytest.param(
        "rnn",
        {
            "framework": "torch",
            "hidden_size": 32,
            "input_size": 20,
            "num_layers": 3,
            "batch": 1,
            "timesteps": 1,
        },
        "float32",
        5_760,  # 32*20 + 32*32 + 2 * (32*32 + 32*32) = 1664 + 4096
        11_808,  # 2*5760 + 3 layers * 64 bias + 3 layers * 32 tanh = 11520 + 192 + 96
        23_808,  # (5760 + 3*64) * 4 = 5952 * 4
        384,  # 3 layers * 32 * 4
        384,
        id="torch-rnn-stacked",
    ),
]


@pytest.mark.parametrize(
    ("kind", "options", "dtype", "macs", "flops", "weight_bytes", "step_bytes", "sequence_bytes"), KNOWN
)
def test_known_costs(kind, options, dtype, macs, flops, weight_bytes, step_bytes, sequence_bytes):
    costs = shapes(kind, dtype=dtype, **options).costs
    assert (to_json(costs.macs), to_json(costs.flops)) == (macs, flops)
    assert to_json(costs.weight_bytes) == weight_bytes
    assert (to_json(costs.step_bytes), to_json(costs.sequence_bytes)) == (step_bytes, sequence_bytes)


@settings(max_examples=40, deadline=None)
@given(
    units=st.integers(1, 300),
    input_dim=st.integers(1, 300),
    batch=st.integers(1, 64),
    timesteps=st.integers(1, 500),
    framework=st.sampled_from(["keras", "torch"]),
)
def test_lstm_macs_formula_of_the_issue(units, input_dim, batch, timesteps, framework):
    names = ("units", "input_dim") if framework == "keras" else ("hidden_size", "input_size")
    sizes = dict(zip(names, (units, input_dim), strict=True))
    costs = shapes("lstm", framework=framework, batch=batch, timesteps=timesteps, **sizes).costs
    assert costs.macs == batch * timesteps * 4 * units * (input_dim + units)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn", "convlstm1d", "convlstm"]),
    framework=st.sampled_from(["keras", "torch"]),
    units=st.integers(1, 50),
    features=st.integers(1, 50),
    length=st.integers(3, 40),
    batch=st.integers(1, 16),
    timesteps=st.integers(1, 50),
    bidirectional=st.booleans(),
)
def test_symbolic_costs_evaluate_to_the_numeric_costs(
    kind, framework, units, features, length, batch, timesteps, bidirectional
):
    if kind.startswith("convlstm"):
        framework = "keras"
        spatial = 1 if kind == "convlstm1d" else 2
        symbolic = {"filters": "U", "kernel": (3,) * spatial, "input": ("L",) * spatial + ("D",)}
        numeric = {"filters": units, "kernel": (3,) * spatial, "input": (length,) * spatial + (features,)}
    elif framework == "torch":
        symbolic, numeric = (
            {"hidden_size": "U", "input_size": "D"},
            {"hidden_size": units, "input_size": features},
        )
    else:
        symbolic, numeric = {"units": "U", "input_dim": "D"}, {"units": units, "input_dim": features}
    common = {"framework": framework, "bidirectional": bidirectional}
    sym_costs = shapes(kind, **common, **symbolic).costs
    num_costs = shapes(kind, **common, **numeric, batch=batch, timesteps=timesteps).costs
    env = {"U": units, "D": features, "L": length, "batch": batch, "timestep": timesteps}
    for field in ("macs", "flops", "weight_bytes", "step_bytes", "sequence_bytes"):
        assert evaluate(getattr(sym_costs, field), env) == getattr(num_costs, field), field


def test_flops_are_twice_the_macs_plus_bias_and_cell_ops():
    # Removing the biases removes exactly the bias adds: 4*32 for Keras LSTM, 2*4*32 for PyTorch.
    for framework, bias_adds in (("keras", 128), ("torch", 256)):
        names = ("units", "input_dim") if framework == "keras" else ("hidden_size", "input_size")
        sizes = dict(zip(names, (32, 20), strict=True)) | {"batch": 1, "timesteps": 1}
        biased = shapes("lstm", framework=framework, **sizes).costs
        plain = shapes("lstm", framework=framework, use_bias=False, **sizes).costs
        assert biased.macs == plain.macs == 6656
        assert biased.flops - plain.flops == bias_adds
        assert plain.flops == 2 * 6656 + 9 * 32


def test_json_carries_the_costs(run_cli):
    result = run_cli("lstm", "--units", "32", "--input-dim", "20", "--dtype", "bfloat16", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["schema_version"] == 1
    assert data["dtype"] == "bfloat16"
    assert data["macs"] == "batch*timestep*6656"
    assert data["flops"] == "batch*timestep*13728"
    assert data["weight_bytes"] == 13568
    assert data["activation_bytes"] == {"step": "batch*384", "sequence": "batch*timestep*384"}
    assert sum(t["params"] for t in data["tensors"]) == data["params"] == 6784


def test_table_and_markdown_footers(run_cli):
    args = ("lstm", "--units", "32", "--input-dim", "20", "--batch", "8", "--timesteps", "100")
    table = run_cli(*args).out
    counts = "\nMACs: 5,324,800 (5.32 M)\nFLOPs: 10,982,400 (11 M)\n"
    assert counts + "weights (float32): 27,136 bytes (26.5 KiB)\n" in table
    markdown = run_cli(*args, "--format", "markdown").out
    assert (
        "- activations (float32): 6,144 bytes (6.0 KiB) per step, "
        "614,400 bytes (600.0 KiB) for the whole sequence (kept for training)\n"
    ) in markdown


def test_unknown_dtype_is_a_usage_error(run_cli):
    result = run_cli("lstm", "--units", "4", "--input-dim", "3", "--dtype", "int8")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "--dtype" in result.err and "int8" in result.err
    with pytest.raises(ShapecalcError, match="int8") as error:
        shapes("lstm", units=4, input_dim=3, dtype="int8")
    assert error.value.option == "dtype"


def test_cli_offers_exactly_the_known_dtypes():
    assert tuple(ITEMSIZES) == OPTIONS["dtype"].choices
