"""``shapecalc port`` on the command line: golden table, JSON and Python outputs, the JSON's
schema, the Python function run on arrays, and one line with exit 2 for every refusal.

After a deliberate change to the output, rewrite the golden files and review the diff::

    SHAPECALC_UPDATE_GOLDEN=1 python -m pytest tests/test_port_cli.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "golden" / "port"
EXTENSIONS = {"table": "txt", "json": "json", "python": "py"}

#: Case name -> the arguments after ``shapecalc port``.
CASES: dict[str, tuple[str, ...]] = {
    "keras_lstm_to_torch": ("lstm", "--from", "keras", "--to", "torch", "--units", "32", "--input-dim", "20"),
    "keras_gru_to_torch_bidirectional": (
        *("gru", "--from", "keras", "--to", "torch", "--units", "8", "--input-dim", "4", "--bidirectional"),
    ),
    "keras_gru_reset_before_to_onnx": (
        *("gru", "--from", "keras", "--to", "onnx", "--units", "8", "--input-dim", "4", "--no-reset-after"),
    ),
    "torch_lstm_stacked_to_keras": (
        *("lstm", "--from", "torch", "--to", "keras", "--hidden-size", "4", "--input-size", "3"),
        *("--num-layers", "2"),
    ),
    "torch_gru_to_onnx_no_bias": (
        *("gru", "--from", "torch", "--to", "onnx", "--hidden-size", "6", "--input-size", "2", "--no-bias"),
    ),
    "onnx_lstm_bidirectional_to_torch": (
        *("lstm", "--from", "onnx", "--to", "torch", "--hidden-size", "4", "--input-size", "3"),
        *("--direction", "bidirectional"),
    ),
    "torch_rnn_relu_to_keras": (
        *("rnn", "--from", "torch", "--to", "keras", "--hidden-size", "8", "--input-size", "4"),
        *("--nonlinearity", "relu"),
    ),
    "torch_rnn_relu_bidirectional_to_onnx": (
        *("rnn", "--from", "torch", "--to", "onnx", "--hidden-size", "8", "--input-size", "4"),
        *("--nonlinearity", "relu", "--bidirectional"),
    ),
}
SYMBOLIC = ("gru", "--from", "keras", "--to", "onnx", "--units", "U", "--input-dim", "D")


def _golden(run_cli, name: str, fmt: str, args: tuple[str, ...]) -> None:
    result = run_cli("port", *args, "--format", fmt)
    assert result.code == 0, result.err
    path = GOLDEN / f"{name}.{EXTENSIONS[fmt]}"
    if os.environ.get("SHAPECALC_UPDATE_GOLDEN"):
        path.write_text(result.out, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert result.out == expected, f"{path.name} differs: rerun with SHAPECALC_UPDATE_GOLDEN=1"
    assert all(line == line.rstrip() for line in result.out.splitlines()), "a line ends in spaces"


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(run_cli, name: str, fmt: str) -> None:
    _golden(run_cli, name, fmt, CASES[name])


def test_symbolic_sizes_describe_the_port(run_cli) -> None:
    _golden(run_cli, "keras_gru_symbolic_to_onnx", "table", SYMBOLIC)
    result = run_cli("port", *SYMBOLIC, "--format", "python")
    assert result.code == 2
    reason = "--format python writes NumPy code with numbers, got 'U'"
    assert result.err == f"Error: Invalid value for '--units': {reason}\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_table_fits_a_narrow_terminal(run_cli, monkeypatch, name: str) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli("port", *CASES[name])
    assert result.code == 0 and max(len(line) for line in result.out.splitlines()) <= 60
    assert all(line == line.rstrip() for line in result.out.splitlines())


def _schema_check(data: dict[str, Any]) -> None:
    """The JSON answer's contract: keys, types, and every part's form."""
    assert set(data) == {"schema_version", "from", "to", "cell", "source", "target", "tensors", "notes",
                         "refusals"}  # fmt: skip
    assert data["schema_version"] == 1 and data["from"] != data["to"]
    assert set(data["source"]) == {"layer", "config", "tensors"}
    sources = {t["name"]: t["shape"] for t in data["source"]["tensors"]}
    assert all(set(layer) == {"layer", "prefix", "config"} for layer in data["target"])
    for tensor in data["tensors"]:
        assert set(tensor) == {"target", "shape", "how", "parts"} and tensor["parts"]
        for part in tensor["parts"]:
            assert {"at", "gate", "direction"} <= set(part)
            terms = part.get("sum", [part] if "source" in part else [])
            assert part.get("zeros") is True or terms
            for term in terms:
                assert term["source"] in sources and isinstance(term["transpose"], bool)
                assert term["slice"].startswith("[") and term["slice"].endswith("]")
    for refusal in data["refusals"]:
        assert set(refusal) == {"to", "option", "message"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_json_follows_its_schema(run_cli, name: str) -> None:
    result = run_cli("port", *CASES[name], "--format", "json")
    _schema_check(json.loads(result.out))


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_python_function_does_what_apply_recipe_does(run_cli, name: str) -> None:
    np = pytest.importorskip("numpy")
    from shapecalc.api import request
    from shapecalc.port import apply_recipe, port_recipe

    args = CASES[name]
    result = run_cli("port", *args, "--format", "python")
    namespace: dict[str, Any] = {}
    exec(compile(result.out, name, "exec"), namespace)
    data = json.loads(run_cli("port", *args, "--format", "json").out)
    config = request(args[0], {**data["source"]["config"], "framework": data["from"]}).config
    recipe = port_recipe(config, data["to"])
    rng = np.random.default_rng(0)
    weights = {s.name: rng.standard_normal(s.shape).astype(np.float32) for s in recipe.sources}
    expected = apply_recipe(recipe, weights)
    got = namespace["convert"](weights)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key].dtype == value.dtype and (got[key] == value).all(), key
    with pytest.raises(ValueError, match="expected"):
        first = recipe.sources[0].name
        namespace["convert"]({**weights, first: np.zeros((1, 1, 1, 1), np.float32)})


REFUSED = [
    (("gru", "--from", "keras", "--to", "torch", "--units", "8", "--input-dim", "4", "--no-reset-after"),
     "--no-reset-after", "cannot port to torch: reset_after=False has no PyTorch form"),
    (("gru", "--from", "onnx", "--to", "torch", "--hidden-size", "8", "--input-size", "4"),
     "--linear-before-reset", "cannot port to torch: linear_before_reset=0 has no PyTorch form"),
    (("lstm", "--from", "onnx", "--to", "keras", "--hidden-size", "8", "--input-size", "4", "--peepholes"),
     "--peepholes", "cannot port to keras: Keras LSTM has no peepholes (input P)"),
    (("lstm", "--from", "torch", "--to", "onnx", "--hidden-size", "8", "--input-size", "4", "--proj-size",
      "2"), "--proj-size", "cannot port to onnx: 2: ONNX LSTM has no projection (weight_hr)"),
    (("lstm", "--from", "keras", "--to", "torch", "--units", "8", "--input-dim", "4",
      "--recurrent-activation", "hard_sigmoid"), "--recurrent-activation",
     "cannot port to torch: 'hard_sigmoid': PyTorch gates always use sigmoid"),
    (("rnn", "--from", "keras", "--to", "torch", "--units", "8", "--input-dim", "4", "--activation",
      "softsign"), "--activation", "cannot port to torch: 'softsign': nn.RNN's nonlinearity is tanh or relu"),
    (("lstm", "--from", "torch", "--to", "torch", "--hidden-size", "8", "--input-size", "4"), "--to",
     "cannot port to torch: the layer is already PyTorch: nothing to port"),
    (("lstm", "--from", "keras", "--to", "torch", "--hidden-size", "8", "--input-size", "4", "--num-layers",
      "2"), "--num-layers", "is not an option of lstm with framework keras"),
    (("lstm", "--from", "keras", "--to", "tf", "--units", "8", "--input-dim", "4"), "--to",
     "must be one of keras, torch, onnx, got 'tf'"),
    (("lstm", "--from", "caffe", "--to", "torch", "--units", "8", "--input-dim", "4"), "--from",
     "must be one of 'keras', 'torch', 'onnx', got 'caffe'"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "flag", "reason"), REFUSED)
def test_a_refusal_is_one_line_naming_the_option_exit_2(run_cli, args, flag, reason) -> None:
    result = run_cli("port", *args)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"Error: Invalid value for '{flag}': {reason}"), result.err
    assert result.err.count("\n") == 1


def test_an_unknown_layer_or_a_missing_file_is_refused(run_cli) -> None:
    # Any other first argument is a weights file (tests/test_port_files.py): this one is not there.
    result = run_cli("port", "model.pt", "--from", "torch", "--to", "keras")
    assert result.code == 2
    assert result.err == (
        "Error: Invalid value for 'LAYER': must be one of lstm, gru, rnn or a weights file, got 'model.pt' "
        "(no such file)\n"
    )
