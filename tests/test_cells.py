"""The cell table and the typed cell views: the table agrees with what the rules
build, and the modules that read a result read its views, not hand-built names.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shapecalc.api import shapes
from shapecalc.cells import CELLS
from shapecalc.configs import RecurrentConfig
from shapecalc.dims import sym
from shapecalc.rules import derive

PACKAGE = Path(__file__).parent.parent / "shapecalc"


def test_an_unknown_config_type_is_a_bug_not_a_user_error() -> None:
    class Strange(RecurrentConfig):
        pass

    with pytest.raises(TypeError, match="no shape rule for Strange"):
        derive(Strange(cell="lstm", units=4, input_dim=3))


@pytest.mark.parametrize(
    "module", ["shapecalc.costs", "shapecalc.explain", "shapecalc.cells", "shapecalc.views"]
)
def test_costs_explain_and_the_table_do_not_import_the_rules(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('shapecalc.rules')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


KINDS = [
    ("lstm", "keras", {"units": 8, "input_dim": 4}),
    ("gru", "keras", {"units": 8, "input_dim": 4}),
    ("rnn", "keras", {"units": 8, "input_dim": 4}),
    ("lstm", "torch", {"hidden_size": 8, "input_size": 4}),
    ("gru", "torch", {"hidden_size": 8, "input_size": 4}),
    ("rnn", "torch", {"hidden_size": 8, "input_size": 4}),
    ("lstm", "onnx", {"hidden_size": 8, "input_size": 4}),
    ("gru", "onnx", {"hidden_size": 8, "input_size": 4}),
    ("rnn", "onnx", {"hidden_size": 8, "input_size": 4}),
]


@pytest.mark.parametrize(("kind", "framework", "options"), KINDS)
def test_the_table_agrees_with_what_the_rules_build(kind: str, framework: str, options: dict) -> None:
    result = shapes(kind, framework=framework, **options)
    convention = CELLS[kind].convention(framework)
    assert result.layer == convention.layer_class
    assert result.gate_order == convention.order
    gates = [t for t in result.tensors if t.role == "gate"]
    assert [t.name for t in gates] == [f"gate_{g.letter}" for g in convention.gates]
    assert [t.description for t in gates] == [g.meaning for g in convention.gates]
    assert [t.name for t in result.tensors if t.role == "state"] == list(CELLS[kind].states)
    (cell,) = result.cells
    assert cell.spec is CELLS[kind] and cell.convention is convention
    for gate in cell.gates:
        assert gate.kernel.gate == gate.recurrent_kernel.gate == gate.spec.letter
        assert gate.kernel.slice_of == cell.kernel.name
    if framework == "onnx" and not cell.gates:  # ONNX RNN: the cell holds its direction's slices
        assert (cell.kernel.name, cell.kernel.slice_of, cell.kernel.index) == ("Wi", "W", "[0]")


EXPECTED_GATES = {
    ("lstm", "keras"): [("i", "input"), ("f", "forget"), ("c", "candidate"), ("o", "output")],
    ("lstm", "torch"): [("i", "input"), ("f", "forget"), ("g", "candidate"), ("o", "output")],
    ("gru", "keras"): [("z", "update"), ("r", "reset"), ("h", "candidate")],
    ("gru", "torch"): [("r", "reset"), ("z", "update"), ("n", "candidate")],
    ("rnn", "keras"): [],
    ("rnn", "torch"): [],
    ("lstm", "onnx"): [("i", "input"), ("o", "output"), ("f", "forget"), ("c", "candidate")],
    ("gru", "onnx"): [("z", "update"), ("r", "reset"), ("h", "candidate")],
    ("rnn", "onnx"): [],
}


@pytest.mark.parametrize(("kind", "framework"), EXPECTED_GATES)
def test_the_gate_orders_and_roles_are_the_frameworks(kind: str, framework: str) -> None:
    gates = CELLS[kind].convention(framework).gates
    assert [(g.letter, g.role) for g in gates] == EXPECTED_GATES[kind, framework]
    assert all(g.activation == ("tanh" if g.role == "candidate" else "σ") for g in gates)


def test_onnx_names_the_activations_as_the_spec_does() -> None:
    """f is the gates' function, g the candidate's, h the output's (LSTM): σ, tanh, tanh by default."""
    lstm, gru, rnn = (CELLS[kind].onnx for kind in ("lstm", "gru", "rnn"))
    assert [g.function for g in lstm.gates] == ["f", "f", "f", "g"]
    assert [g.function for g in gru.gates] == ["f", "f", "g"]
    assert (rnn.function, rnn.activation) == ("f", "tanh")
    assert lstm.update("hidden_state").template == "{output}{had}h({c})"
    assert lstm.state_symbols == ("X", "H", "C")


def test_onnx_peepholes_and_two_directions_share_the_stored_weights() -> None:
    result = shapes("lstm", framework="onnx", hidden_size=8, input_size=4, bidirectional=True, peepholes=True)
    forward, backward = result.cells
    assert (forward.direction, backward.direction) == ("forward", "backward")
    assert forward.kernel is backward.kernel and forward.peepholes is backward.peepholes
    assert [g.peephole.name if g.peephole else None for g in backward.gates] == ["PBi", "PBo", "PBf", None]
    assert backward.gate("output").kernel.name == "WBo"
    # costs count the shared W, R and B once; each peephole adds a product and a sum per unit
    plain = shapes("lstm", framework="onnx", hidden_size=8, input_size=4, bidirectional=True)
    assert result.costs.macs == plain.costs.macs
    assert result.costs.flops - plain.costs.flops == sym("batch") * sym("timestep") * 6 * 8 * 2


def test_convlstm_is_the_lstm_cell_with_convolutions() -> None:
    result = shapes("convlstm", filters=8, kernel=(3, 3), input=("W", "H", 3), strides=(2, 2))
    (cell,) = result.cells
    assert result.layer in CELLS["lstm"].keras.conv_classes and cell.spec is CELLS["lstm"]
    assert cell.convolution is not None and cell.convolution.strides == (2, 2)
    assert cell.convolution.grid == cell.hidden_state.shape[1:-1]


def test_one_view_per_layer_and_direction() -> None:
    result = shapes("lstm", framework="torch", hidden_size=8, input_size=4, num_layers=2, bidirectional=True)
    assert [(c.layer, c.direction) for c in result.cells] == [
        (0, "forward"),
        (0, "reverse"),
        (1, "forward"),
        (1, "reverse"),
    ]
    assert result.cells[3].kernel.name == "weight_ih_l1_reverse"
    assert result.cells[2].step_input is result.cells[2].output
    assert "cells" not in result.to_json()


#: Consumers that must read the views: no name arithmetic, no guessing the cell kind.
CONSUMERS = ["costs.py", "explain.py", *(f"render/{p.name}" for p in (PACKAGE / "render").glob("*.py"))]
NAME_FRAGMENTS = (
    "kernel_",
    "kernel{",
    "weight_ih",
    "weight_hh",
    "weight_hr",
    "bias_",
    "gate_",
    "forward/",
    "_l0",
)


def _nodes(module: str) -> list[ast.AST]:
    return list(ast.walk(ast.parse((PACKAGE / module).read_text(encoding="utf-8"))))


@pytest.mark.parametrize("module", CONSUMERS)
def test_consumers_build_no_tensor_names(module: str) -> None:
    for node in _nodes(module):
        if isinstance(node, ast.JoinedStr):
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            assert not [f for f in NAME_FRAGMENTS if f in literal], ast.unparse(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    assert not [f for f in NAME_FRAGMENTS if f in side.value], ast.unparse(node)
        if isinstance(node, ast.Attribute):
            assert node.attr != "rsplit", f"{module}: .rsplit"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            assert "gate_order" not in ast.unparse(node), ast.unparse(node)
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            assert node.left.value not in ("ConvLSTM", "Bidirectional"), ast.unparse(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in ("tensor", "startswith") or "bias" not in ast.unparse(node)
            assert not (node.func.attr == "tensor" and module in ("costs.py", "explain.py")), ast.unparse(
                node
            )
