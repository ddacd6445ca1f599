"""``shapecalc model FILE --set NAME=VALUE`` and ``analyze(..., bindings=...)``: a name the model's
input shapes do not use is refused; ``timesteps`` and ``batch_size`` stand for ``timestep`` and
``batch``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shapecalc.dims import sym
from shapecalc.errors import ShapecalcError
from shapecalc.model import analyze

MODELS = Path(__file__).parent.parent / "shapecalc" / "examples"
KERAS = Path(__file__).parent / "data" / "keras"


def test_a_name_the_model_does_not_use_is_a_usage_error(run_cli):
    result = run_cli("model", str(MODELS / "stacked_lstm.yaml"), "--set", "bacth=32")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: --set: bacth is not a size of the model's inputs (did you mean 'batch'?); they have batch\n"
    )


def test_the_symbols_of_every_input_are_named(run_cli):
    result = run_cli("model", str(MODELS / "seq2seq_states.yaml"), "--set", "T=3")
    assert result.code == 2
    assert result.err.endswith("; they have batch, timestep, timestep_2\n")


def test_timesteps_and_batch_size_are_aliases(run_cli):
    model = str(KERAS / "seq2seq_states.json")
    result = run_cli("model", model, "--set", "timesteps=10", "--set", "batch_size=8", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["inputs"] == [[8, 10, 5], [8, "timestep_2", 6]]


def test_aliases_through_the_api():
    result = analyze(MODELS / "seq2seq_states.yaml", bindings={"timesteps_2": 7, "batch_size": 2})
    assert result.inputs == ((2, sym("timestep"), 5), (2, 7, 6))


def test_a_name_and_its_alias_must_agree():
    with pytest.raises(ShapecalcError, match="--set: batch is given two values"):
        analyze(MODELS / "stacked_lstm.yaml", bindings={"batch": 2, "batch_size": 3})
    assert analyze(MODELS / "stacked_lstm.yaml", bindings={"batch": 2, "batch_size": 2}).inputs[0][0] == 2


def test_a_model_without_symbols_takes_no_set(run_cli, tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("batch: 4\ninput: [10, 3]\nlayers:\n  - {type: dense, units: 2}\n")
    result = run_cli("model", str(model), "--set", "batch=4")
    assert (result.code, result.err) == (
        2,
        "Error: --set: batch is not a size of the model's inputs; their sizes are all numbers\n",
    )
