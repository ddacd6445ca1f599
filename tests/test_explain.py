"""``--explain``: the equations of one time step, each operand with the engine's shape.

Golden files: ``SHAPECALC_UPDATE_GOLDEN=1 python -m pytest tests/test_explain.py``
rewrites ``tests/golden/explain/`` after a deliberate change (review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.api import shapes
from shapecalc.dims import evaluate, format_shape, sym

GOLDEN = Path(__file__).parent / "golden" / "explain"

#: One case per layer kind and framework (and the variants that change the equations).
CASES = {
    "keras-lstm": ["lstm", "--units", "32", "--input-dim", "20"],
    "keras-gru": ["gru", "--units", "32", "--input-dim", "20"],
    "keras-gru-no-reset-after": ["gru", "--units", "32", "--input-dim", "20", "--no-reset-after"],
    "keras-rnn": ["rnn", "--units", "32", "--input-dim", "20", "--return-sequences"],
    "keras-convlstm1d": ["convlstm1d", "--filters", "4", "--kernel", "3", "--input", "L", "2", "--no-bias"],
    "keras-convlstm2d": ["convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3"],
    "keras-convlstm3d": [
        *("convlstm3d", "--filters", "4", "--kernel", "3", "3", "3", "--input", "1", "16", "32", "32"),
        *("--data-format", "channels_first", "--strides", "2", "2", "2", "--padding", "same"),
    ],
    "keras-lstm-bidirectional": [
        *("lstm", "--units", "U", "--input-dim", "D", "--bidirectional", "--return-sequences"),
        *("--merge-mode", "sum"),
    ],
    "torch-lstm": ["lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20"],
    "torch-lstm-projection": [
        *("lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20", "--proj-size", "8"),
        *("--num-layers", "2", "--bidirectional", "--batch-first"),
    ],
    "torch-gru": ["gru", "--framework", "torch", "--hidden-size", "32", "--input-size", "20"],
    "torch-rnn": ["rnn", "--framework", "torch", "--hidden-size", "H", "--input-size", "I", "--no-bias"],
    "onnx-lstm-peepholes": [
        "lstm",
        "--framework",
        "onnx",
        "--hidden-size",
        "32",
        "--input-size",
        "20",
        "--peepholes",
    ],
    "onnx-gru": ["gru", "--framework", "onnx", "--hidden-size", "32", "--input-size", "20", "--layout", "1"],
    "onnx-gru-linear-before-reset": [
        *("gru", "--framework", "onnx", "--hidden-size", "32", "--input-size", "20", "--linear-before-reset"),
        *("--bidirectional",),
    ],
    "onnx-rnn": [
        "rnn",
        "--framework",
        "onnx",
        "--hidden-size",
        "H",
        "--input-size",
        "I",
        "--direction",
        "reverse",
    ],
}
FORMATS = {"table": "txt", "markdown": "md"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_golden_explain(run_cli, case, fmt):
    result = run_cli(*CASES[case], "--explain", "--format", fmt)
    assert result.code == 0, result.err
    path = GOLDEN / f"{case}.{FORMATS[fmt]}"
    if os.environ.get("SHAPECALC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.out, encoding="utf-8")
    assert result.out == path.read_text(encoding="utf-8")


def test_notes_lstm_example_reads_as_the_issue_asks(run_cli):
    out = run_cli("lstm", "--units", "32", "--input-dim", "20", "--explain").out
    assert "  i_t = σ(x_t · W_i + h_{t-1} · U_i + b_i)\n" in out
    assert (
        "    x_t: (batch, 20), W_i: (20, 32), h_{t-1}: (batch, 32), U_i: (32, 32), b_i: (32,)\n"
        "    → i_t: (batch, 32)\n"
    ) in out


def test_without_explain_there_are_no_steps(run_cli):
    out = run_cli("lstm", "--units", "4", "--input-dim", "3").out
    assert "one time step" not in out
    data = json.loads(run_cli("lstm", "--units", "4", "--input-dim", "3", "--format", "json").out)
    assert "steps" not in data and "explain_notes" not in data


def test_json_steps_structure(run_cli):
    result = run_cli("lstm", "--units", "32", "--input-dim", "20", "--explain", "--format", "json")
    data = json.loads(result.out)
    assert data["schema_version"] == 1
    assert [s["equation"] for s in data["steps"]] == [
        "x_t = x[:, t]",
        "i_t = σ(x_t · W_i + h_{t-1} · U_i + b_i)",
        "f_t = σ(x_t · W_f + h_{t-1} · U_f + b_f)",
        "c̃_t = tanh(x_t · W_c + h_{t-1} · U_c + b_c)",
        "o_t = σ(x_t · W_o + h_{t-1} · U_o + b_o)",
        "c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t",
        "h_t = o_t ⊙ tanh(c_t)",
        "output = h_T",
    ]
    gate_i = data["steps"][1]
    assert gate_i["operands"] == [
        {"symbol": "x_t", "tensor": "input", "shape": ["batch", 20], "index": "[:, t]"},
        {"symbol": "W_i", "tensor": "kernel_i", "shape": [20, 32]},
        {"symbol": "h_{t-1}", "tensor": "hidden_state", "shape": ["batch", 32]},
        {"symbol": "U_i", "tensor": "recurrent_kernel_i", "shape": [32, 32]},
        {"symbol": "b_i", "tensor": "bias_i", "shape": [32]},
    ]
    assert gate_i["result"] == {"symbol": "i_t", "tensor": "gate_i", "shape": ["batch", 32]}
    assert data["explain_notes"][0] == "t = 1 … timestep; h_0 = c_0 = 0 unless an initial state is given."


@pytest.mark.parametrize(
    ("kind", "options", "equation"),
    [
        ("gru", {}, "h̃_t = tanh(x_t · W_h + b_h[0] + r_t ⊙ (h_{t-1} · U_h + b_h[1]))"),
        ("gru", {"reset_after": False}, "h̃_t = tanh(x_t · W_h + (r_t ⊙ h_{t-1}) · U_h + b_h)"),
        ("gru", {"use_bias": False}, "h̃_t = tanh(x_t · W_h + r_t ⊙ (h_{t-1} · U_h))"),
        ("rnn", {}, "h_t = tanh(x_t · W + h_{t-1} · U + b)"),
        ("convlstm", {}, "f_t = σ(x_t * W_f + h_{t-1} * U_f + b_f)"),
        ("lstm", {"framework": "torch"}, "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)"),
        ("lstm", {"framework": "torch", "proj_size": 2}, "h_t = W_hr (o_t ⊙ tanh(c_t))"),
        ("gru", {"framework": "torch"}, "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))"),
        ("gru", {"framework": "torch"}, "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}"),
        ("rnn", {"framework": "torch", "use_bias": False}, "h_t = tanh(x_t W_ihᵀ + h_{t-1} W_hhᵀ)"),
        ("lstm", {"bidirectional": True}, "output = concat(h_T^fwd, h_1^bwd)"),
        ("lstm", {"bidirectional": True, "merge_mode": "ave"}, "output = (h_T^fwd + h_1^bwd) / 2"),
        ("lstm", {"bidirectional": True, "merge_mode": "none"}, "backward/output = h_1^bwd"),
        ("lstm", {"framework": "torch", "num_layers": 3}, "x_t^(2) = h_t^(1)"),
        ("lstm", {"framework": "torch", "bidirectional": True}, "output[t] = concat(h_t, h_t^reverse)"),
        ("lstm", {"framework": "onnx"}, "i_t = f(X_t · W_iᵀ + H_{t-1} · R_iᵀ + Wb_i + Rb_i)"),
        (
            "lstm",
            {"framework": "onnx", "peepholes": True},
            "o_t = f(X_t · W_oᵀ + H_{t-1} · R_oᵀ + P_o ⊙ C_t + Wb_o + Rb_o)",
        ),
        ("lstm", {"framework": "onnx"}, "H_t = o_t ⊙ h(C_t)"),
        ("gru", {"framework": "onnx"}, "h_t = g(X_t · W_hᵀ + (r_t ⊙ H_{t-1}) · R_hᵀ + Rb_h + Wb_h)"),
        (
            "gru",
            {"framework": "onnx", "linear_before_reset": True},
            "h_t = g(X_t · W_hᵀ + r_t ⊙ (H_{t-1} · R_hᵀ + Rb_h) + Wb_h)",
        ),
        ("rnn", {"framework": "onnx", "use_bias": False}, "H_t = f(X_t · W_iᵀ + H_{t-1} · R_iᵀ)"),
        ("lstm", {"framework": "onnx", "layout": 1}, "Y[:, t, 0] = H_t"),
        ("gru", {"framework": "onnx", "direction": "reverse"}, "Y_h[0] = H_1"),
    ],
)
def test_equations(kind, options, equation):
    assert equation in _equations(_explained(kind, options))


def test_gate_order_follows_the_convention():
    def gate_results(kind, framework):
        result = _explained(kind, {"framework": framework})
        return [s.result.tensor for s in result.explanation.steps if s.result.tensor.startswith("gate_")]

    assert gate_results("lstm", "keras") == ["gate_i", "gate_f", "gate_c", "gate_o"]
    assert gate_results("lstm", "torch") == ["gate_i", "gate_f", "gate_g", "gate_o"]
    assert gate_results("gru", "keras") == ["gate_z", "gate_r", "gate_h"]
    assert gate_results("gru", "torch") == ["gate_r", "gate_z", "gate_n"]
    assert gate_results("lstm", "onnx") == ["gate_i", "gate_o", "gate_f", "gate_c"]
    assert gate_results("gru", "onnx") == ["gate_z", "gate_r", "gate_h"]


#: Every layer kind and framework, with the options that change the equations or shapes.
VARIANTS = [
    (kind, options)
    for kind in ("lstm", "gru", "rnn")
    for options in (
        {},
        {"use_bias": False},
        {"bidirectional": True, "return_sequences": True},
        {"bidirectional": True, "merge_mode": "none"},
        {"framework": "torch"},
        {"framework": "torch", "use_bias": False, "batch_first": True},
        {"framework": "torch", "num_layers": 3, "bidirectional": True},
    )
]
VARIANTS += [("gru", {"reset_after": False}), ("gru", {"reset_after": False, "use_bias": False})]
VARIANTS += [
    (kind, {"framework": "onnx", **extra})
    for kind in ("lstm", "gru", "rnn")
    for extra in (
        {},
        {"use_bias": False, "layout": 1},
        {"direction": "bidirectional"},
        {"direction": "reverse"},
    )
]
VARIANTS += [("lstm", {"framework": "onnx", "peepholes": True, "bidirectional": True})]
VARIANTS += [("gru", {"framework": "onnx", "linear_before_reset": True, "use_bias": False})]
VARIANTS += [("lstm", {"framework": "torch", "proj_size": 3, "num_layers": 2, "bidirectional": True})]
VARIANTS += [
    (kind, {"framework": "torch", **extra})
    for kind in ("lstm", "gru", "rnn")
    for extra in (
        {"unbatched": True, "batch_first": True},
        {"unbatched": True, "num_layers": 2, "bidirectional": True},
        {"lengths": "7,3,1"},
        {"lengths": "2,5x2", "enforce_sorted": False, "num_layers": 3, "bidirectional": True},
        {"lengths": "4,4,1", "batch_first": True, "num_layers": 2},
    )
]
VARIANTS += [
    (kind, {"kernel": kernel, "input": frame, **extra})
    for kind, kernel, frame in (
        ("convlstm1d", (3,), ("L", 9)),
        ("convlstm", (3, 2), ("W", "H", 9)),
        ("convlstm3d", (3, 3, 1), (5, "H", "W", 2)),
    )
    for extra in (
        {},
        {"padding": "same", "strides": 2},
        {"data_format": "channels_first", "use_bias": False},
        {"bidirectional": True, "return_sequences": True, "merge_mode": "mul"},
    )
]


def _explained(kind, options):
    sizes = {"framework": "keras"} | options
    if kind.startswith("convlstm"):
        sizes.setdefault("kernel", (3,) * {"convlstm1d": 1, "convlstm": 2, "convlstm3d": 3}[kind])
        sizes.setdefault("input", (8,) * {"convlstm1d": 2, "convlstm": 3, "convlstm3d": 4}[kind])
        sizes["filters"] = 4
    elif sizes["framework"] == "torch":
        sizes |= {"hidden_size": 6, "input_size": 5}
    else:
        sizes |= {"units": 6, "input_dim": 5}
    return shapes(kind, explain=True, **sizes)


def _equations(result):
    return [step.equation for step in result.explanation.steps]


def _expected_shape(result, operand):
    """The named tensor's shape, less the axes ``index`` picks (``[:, t]`` drops axis 1, ONNX's
    ``Y[t, 0]`` axes 0 and 1)."""
    shape = result.tensor(operand.tensor).shape
    if not operand.index:
        return shape
    entries = operand.index.strip("[]").split(", ")
    assert entries[-1] != ":"
    # A slice of a packed step (``:N_t`` of the padded input, rows ``o_t:o_t+b_t`` of the
    # PackedSequence data) keeps its axis with the first step's rows, one per sequence.
    rows = result.packing.sequences if result.packing is not None else None
    return tuple(
        rows if axis < len(entries) and ":" in entries[axis] and entries[axis] != ":" else size
        for axis, size in enumerate(shape)
        if axis >= len(entries) or ":" in entries[axis]
    )


@pytest.mark.parametrize(("kind", "options"), VARIANTS, ids=lambda v: str(v))
def test_every_operand_has_the_shape_of_its_tensor(kind, options):
    result = _explained(kind, options)
    steps = result.explanation.steps
    assert len(steps) >= 3
    for step in steps:
        for operand in (*step.operands, step.result):
            assert operand.shape == _expected_shape(result, operand), (step.equation, operand)
            assert operand.symbol in step.equation
        assert step.equation.startswith(f"{step.result.symbol} = ")


@pytest.mark.parametrize(("kind", "options"), VARIANTS, ids=lambda v: str(v))
def test_no_bias_means_no_bias_terms(kind, options):
    with_bias = _explained(kind, options | {"use_bias": True})
    without = _explained(kind, options | {"use_bias": False})
    operands = [o for s in without.explanation.steps for o in s.operands]
    assert not [o for o in operands if _is_bias(without, o.tensor)]
    assert not [e for e in _equations(without) if " b_" in e or "+ b)" in e or "b_" in e]
    biased = [o for s in with_bias.explanation.steps for o in s.operands if _is_bias(with_bias, o.tensor)]
    assert biased


def _is_bias(result, name):
    """Keras' and PyTorch's biases say so in their names; ONNX's are B and its slices (Wbi, Rbi)."""
    tensor = result.tensor(name)
    return "bias" in name or (tensor.slice_of or tensor.name) == "B"


def test_the_one_step_input_and_the_output_step():
    keras = _explained("lstm", {"return_sequences": True})
    first, last = keras.explanation.steps[0], keras.explanation.steps[-1]
    assert (first.equation, format_shape(first.result.shape)) == ("x_t = x[:, t]", "(batch, 5)")
    assert (last.equation, last.result.index) == ("output[:, t] = h_t", "[:, t]")
    torch = _explained("gru", {"framework": "torch"})
    assert torch.explanation.steps[0].equation == "x_t = input[t]"
    assert _equations(torch)[-2:] == ["output[t] = h_t", "h_n = stack(h_T of each layer and direction)"]
    assert format_shape(torch.explanation.steps[-1].result.shape) == "(1, batch, 6)"


def test_conv_note_names_the_input_convolution():
    notes = _explained("convlstm", {"strides": 2, "padding": "same"}).explanation.notes
    assert notes[1].startswith("x_t * W is a convolution with strides (2, 2), padding 'same'")


@settings(max_examples=25, deadline=None)
@given(
    units=st.integers(1, 40),
    features=st.integers(1, 40),
    kind=st.sampled_from(["lstm", "gru", "rnn"]),
    framework=st.sampled_from(["keras", "torch", "onnx"]),
    batch=st.integers(1, 9),
)
def test_symbolic_steps_evaluate_to_the_numeric_steps(units, features, kind, framework, batch):
    names = {"keras": ("units", "input_dim")}.get(framework, ("hidden_size", "input_size"))
    symbolic = shapes(kind, framework=framework, explain=True, **dict(zip(names, ("U", "D"), strict=True)))
    numeric = shapes(
        kind,
        framework=framework,
        explain=True,
        batch=batch,
        timesteps=7,
        **dict(zip(names, (units, features), strict=True)),
    )
    env = {"U": units, "D": features, "batch": batch, "timestep": 7}
    assert _equations(symbolic) == _equations(numeric)
    for sym_step, num_step in zip(symbolic.explanation.steps, numeric.explanation.steps, strict=True):
        for sym_op, num_op in zip(
            (*sym_step.operands, sym_step.result), (*num_step.operands, num_step.result), strict=True
        ):
            assert tuple(evaluate(d, env) for d in sym_op.shape) == num_op.shape


def test_symbolic_sizes_stay_symbolic():
    result = shapes("convlstm", filters="F", kernel=(3, 3), input=("W", "H", "C"), explain=True)
    gate = result.explanation.steps[1]
    assert gate.result.shape == (sym("batch"), sym("W") - 2, sym("H") - 2, sym("F"))
    assert [format_shape(o.shape) for o in gate.operands][:2] == ["(batch, W, H, C)", "(3, 3, C, F)"]


def test_packed_equations_read_rows_of_the_packed_data():
    """Step t of a packed input is the first N_t rows of the padded input at t; the module writes
    them to rows S_t … S_t + N_t of output.data; h_n holds each sequence's own last step."""
    result = _explained("lstm", {"framework": "torch", "lengths": "7,3,1", "num_layers": 2})
    equations = _equations(result)
    assert equations[0] == "x_t = input[t, :N_t]"
    assert "x_t^(1) = h_t^(0)" in equations
    assert equations[-3:] == [
        "output.data[S_t:S_t+N_t] = h_t^(1)",
        "h_n = stack(h_{L_n} of each layer and direction)",
        "c_n = stack(c_{L_n} of each layer and direction)",
    ]
    notes = " ".join(result.explanation.notes)
    assert "t = 1 … 7;" in notes and "N_1 = 3" in notes and "each sequence's last step" in notes
    first = result.explanation.steps[0].result
    assert (first.shape, first.index) == ((3, 5), "[t, :N_t]")
    batch_first = _explained("gru", {"framework": "torch", "lengths": "2,1", "batch_first": True})
    assert _equations(batch_first)[0] == "x_t = input[:N_t, t]"


def test_unbatched_equations_have_no_batch_axis():
    result = _explained("gru", {"framework": "torch", "unbatched": True, "batch_first": True, "timesteps": 4})
    first = result.explanation.steps[0]
    assert (first.equation, first.result.shape) == ("x_t = input[t]", (5,))
    assert _equations(result)[-2:] == ["output[t] = h_t", "h_n = stack(h_T of each layer and direction)"]
    notes = result.explanation.notes
    assert any(note.startswith("unbatched: PyTorch adds a batch axis of 1") for note in notes)


@pytest.mark.parametrize(("nonlinearity", "function"), [("relu", "f = Relu"), ("tanh", "f = tanh")])
def test_an_onnx_rnn_explains_its_activation(run_cli, nonlinearity, function):
    out = run_cli("rnn", "--framework", "onnx", "--hidden-size", "4", "--input-size", "3",
                  "--nonlinearity", nonlinearity, "--explain").out  # fmt: skip
    assert f"where: {function}" in out


@pytest.mark.parametrize(
    ("kind", "options", "equations"),
    [
        (
            "rnn",
            {"framework": "torch", "nonlinearity": "relu"},
            ["h_t = relu(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)"],
        ),
        ("rnn", {"activation": "relu"}, ["h_t = relu(x_t · W + h_{t-1} · U + b)"]),
        (
            "lstm",
            {"activation": "relu", "recurrent_activation": "hard_sigmoid"},
            [
                "i_t = hard_sigmoid(x_t · W_i + h_{t-1} · U_i + b_i)",
                "c̃_t = relu(x_t · W_c + h_{t-1} · U_c + b_c)",
                "h_t = o_t ⊙ relu(c_t)",
            ],
        ),
        (
            "gru",
            {"recurrent_activation": "hard_sigmoid"},
            ["z_t = hard_sigmoid(x_t · W_z + b_z[0] + h_{t-1} · U_z + b_z[1])"],
        ),
    ],
)
def test_the_layer_s_own_activations_are_in_its_equations(kind, options, equations):
    """A Keras activation or a PyTorch nonlinearity changes no shape, but it is the equation."""
    explained = _equations(_explained(kind, options))
    for equation in equations:
        assert equation in explained
    assert not any("tanh" in line or "σ" in line for line in explained if "relu" in line or "hard_" in line)
