"""The Python API returns the very result the command line prints, without Click,
and the package runs as ``python -m shapecalc`` and as the ``shapecalc`` script."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import shapecalc
from shapecalc import (
    ConvRecurrentConfig,
    Expr,
    LayerResult,
    RecurrentConfig,
    ShapecalcError,
    Tensor,
    TorchRecurrentConfig,
    build_config,
    derive,
    evaluate,
    parse_dim,
    shapes,
    substitute,
    sym,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tomli dependency covers Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

#: (command line after ``shapecalc``, the same layer through ``shapes``)
SAME_LAYER = [
    (("lstm", "--units", "32", "--input-dim", "20"), ("lstm", {"units": 32, "input_dim": 20})),
    (
        ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3", "--strides", "2", "2"),
        ("convlstm", {"filters": 8, "kernel": (3, 3), "input": ("W", "H", 3), "strides": (2, 2)}),
    ),
    (
        ("convlstm1d", "--filters", "F", "--kernel", "5", "--input", "L", "C", "--padding", "same"),
        ("convlstm1d", {"filters": "F", "kernel": 5, "input": ("L", "C"), "padding": "same"}),
    ),
    (
        ("gru", "--units", "U", "--input-dim", "8", "--no-reset-after", "--bidirectional", "--return-state"),
        (
            "gru",
            {"units": "U", "input_dim": 8, "reset_after": False, "bidirectional": True, "return_state": True},
        ),
    ),
    (
        ("lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20", "--num-layers", "2"),
        ("lstm", {"framework": "torch", "hidden_size": 32, "input_size": 20, "num_layers": 2}),
    ),
    (
        ("rnn", "--units", "4", "--input-dim", "3", "--no-bias", "--batch", "2", "--timesteps", "T"),
        ("rnn", {"units": 4, "input_dim": 3, "use_bias": False, "batch": 2, "timesteps": "T"}),
    ),
]


@pytest.mark.parametrize(("argv", "call"), SAME_LAYER, ids=[" ".join(a[:3]) for a, _ in SAME_LAYER])
def test_api_result_equals_the_cli_json(run_cli, argv, call) -> None:
    result = run_cli(*argv, "--format", "json")
    assert result.code == 0, result.err
    kind, options = call
    assert shapes(kind, **options).to_json() == json.loads(result.out)


def test_configs_and_derive_give_the_same_result_as_shapes() -> None:
    width, height = sym("W"), sym("H")
    pairs = [
        (RecurrentConfig(cell="lstm", units=32, input_dim=20), shapes("lstm", units=32, input_dim=20)),
        (
            ConvRecurrentConfig(rank=2, filters=8, kernel_size=(3, 3), input_shape=(width, height, 3)),
            shapes("convlstm2d", filters=8, kernel=(3, 3), input=("W", "H", 3)),
        ),
        (
            TorchRecurrentConfig(cell="gru", hidden_size=16, input_size=4, bidirectional=True),
            shapes("gru", framework="torch", units=16, input_dim=4, bidirectional=True),
        ),
    ]
    for config, expected in pairs:
        assert derive(config).to_json() == expected.to_json()


def test_build_config_gives_the_dataclasses() -> None:
    assert build_config("lstm", {"units": 32, "input_dim": 20}) == RecurrentConfig(
        cell="lstm", units=32, input_dim=20
    )
    assert build_config("convlstm", {"filters": 8, "kernel": 3, "input": (9, 9, 1)}) == ConvRecurrentConfig(
        rank=2, filters=8, kernel_size=(3, 3), input_shape=(9, 9, 1)
    )
    # None means "not given", as for an option left out on the command line.
    assert build_config("gru", {"framework": "torch", "hidden_size": 8, "input_size": 4, "batch": None}) == (
        TorchRecurrentConfig(cell="gru", hidden_size=8, input_size=4)
    )


def test_results_are_plain_objects_with_dims() -> None:
    result = shapes("convlstm", filters=8, kernel=(3, 3), input=("W", "H", 3))
    assert isinstance(result, LayerResult)
    gate = result.tensor("gate_i")
    assert isinstance(gate, Tensor)
    assert gate.shape == (sym("batch"), parse_dim("W - 2"), parse_dim("H - 2"), 8)
    assert isinstance(gate.shape[1], Expr) and str(gate.shape[1]) == "W - 2"
    assert evaluate(gate.shape[1], {"W": 128}) == 126
    assert substitute(result.params, {}) == 3200
    assert result.constraints == ("W >= 3", "H >= 3")
    with pytest.raises(KeyError):
        result.tensor("no_such_tensor")


def test_expressions_and_text_are_both_accepted() -> None:
    assert (
        shapes("lstm", units=sym("U"), input_dim=3).to_json()
        == shapes("lstm", units="U", input_dim=3).to_json()
    )
    assert shapes("lstm", units="2*U", input_dim=3).tensor("kernel").shape == (3, parse_dim("U*8"))


@pytest.mark.parametrize(
    ("kind", "options", "option", "message"),
    [
        ("lstm", {"units": 0, "input_dim": 3}, "units", "must be a positive integer, got 0"),
        ("lstm", {"units": "((", "input_dim": 3}, "units", "unexpected end"),
        ("lstm", {"units": True, "input_dim": 3}, "units", "got True"),
        ("lstm", {"units": 2.5, "input_dim": 3}, "units", "got 2.5"),
        ("lstm", {"input_dim": 3}, "units", "is required"),
        ("lstm", {"units": 3, "input_dim": 3, "kernel": 3}, "kernel_size", "is not an option of lstm"),
        ("transformer", {}, "layer", "unknown layer 'transformer'"),
        ("convlstm", {"filters": 8, "kernel": (3, 3), "input": (2, 9, 1)}, "kernel_size", "larger than the"),
        (
            "convlstm",
            {"filters": 8, "kernel": (3, 3), "input": (9, 9, 1), "framework": "torch"},
            "framework",
            "",
        ),
    ],
)
def test_api_errors_are_shapecalc_errors_naming_the_option(kind, options, option, message) -> None:
    with pytest.raises(ShapecalcError) as caught:
        shapes(kind, **options)
    assert caught.value.option == option
    assert message in caught.value.message
    assert isinstance(caught.value, ValueError)  # one except clause catches every bad input


def test_every_public_name_is_importable() -> None:
    for name in shapecalc.__all__:
        assert getattr(shapecalc, name) is not None
    assert set(shapecalc.__all__) <= set(dir(shapecalc))
    with pytest.raises(AttributeError):
        shapecalc.no_such_name  # noqa: B018


def test_the_api_does_not_load_the_command_line_or_the_frameworks() -> None:
    code = (
        "import sys, shapecalc\n"
        "shapecalc.shapes('convlstm', filters=8, kernel=(3, 3), input=('W', 'H', 3)).to_json()\n"
        "heavy = {'click', 'rich', 'pydantic', 'yaml', 'torch', 'keras', 'tensorflow', 'jax', 'sympy'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_python_dash_m_runs_the_program(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shapecalc", "lstm", "--units", "32", "--input-dim", "20", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == shapes("lstm", units=32, input_dim=20).to_json()
    version = subprocess.run([sys.executable, "-m", "shapecalc", "--version"], capture_output=True, text=True)
    assert version.stdout == f"shapecalc {shapecalc.__version__}\n"


def test_the_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"shapecalc": "shapecalc.main:run"}
    assert project["project"]["version"] == shapecalc.__version__
    installed = importlib.metadata.entry_points(group="console_scripts", name="shapecalc")
    if not installed:
        pytest.skip("shapecalc is not installed (pip install -e .)")
    from shapecalc.main import run

    assert next(iter(installed)).load() is run
