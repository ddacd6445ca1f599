"""The example model files ship with the package: listed by ``shapecalc examples``, run by
``shapecalc model --example NAME``, and inside the wheel an install uses."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from shapecalc.model.examples import FOLDER, examples

ROOT = Path(__file__).resolve().parent.parent
NAMES = [example.name for example in examples()]


def test_every_kind_of_model_file_has_an_example() -> None:
    assert {example.format for example in examples()} == {"yaml", "toml", "json"}
    assert any("Keras" in example.about for example in examples())
    assert all(example.about for example in examples())


@pytest.mark.parametrize("name", NAMES)
def test_each_example_runs_as_its_file_does(run_cli, name: str) -> None:
    by_name = run_cli("model", "--example", name, "--format", "json")
    assert by_name.code == 0, by_name.err
    by_file = run_cli(
        "model", str(FOLDER / next(e.path.name for e in examples() if e.name == name)), "--format", "json"
    )
    assert json.loads(by_name.out) == json.loads(by_file.out)


def test_the_list_and_the_mistakes(run_cli) -> None:
    listed = json.loads(run_cli("examples", "--format", "json").out)["examples"]
    assert [entry["name"] for entry in listed] == NAMES
    table = run_cli("examples").out
    assert all(line == line.rstrip() for line in table.splitlines()) and "model --example NAME" in table
    wrong = run_cli("model", "--example", "stacked")
    assert wrong.code == 2 and "did you mean 'stacked_lstm'?" in wrong.err
    both = run_cli("model", "x.yaml", "--example", "stacked_lstm")
    assert both.code == 2 and "give a model FILE or --example NAME" in both.err


def test_the_wheel_carries_the_examples(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    wheel = next(tmp_path.glob("shapecalc-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for example in examples():
        assert f"shapecalc/examples/{example.path.name}" in names
