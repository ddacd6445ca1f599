"""Help: ``shapecalc --help`` and every command's help show worked examples, and
each example line, run exactly as printed, exits 0."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shapecalc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["", *cli.all_commands()]  # "" is the program itself
LAYERS = ["lstm", "gru", "rnn", "convlstm1d", "convlstm", "convlstm3d"]


def _help(run_cli, command: str) -> str:
    result = run_cli(*([command] if command else []), "--help")
    assert result.code == 0, result.err
    return result.out


def _examples(text: str) -> list[str]:
    """The indented ``shapecalc ...`` lines under an ``Example:`` / ``Examples:`` heading."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() in ("Example:", "Examples:")), None)
    if start is None:
        return []
    examples = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        examples.append(line.strip())
    return [line for line in examples if "shapecalc " in line]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c or "shapecalc")
def test_help_shows_an_example(run_cli, command: str) -> None:
    examples = _examples(_help(run_cli, command))
    assert examples, f"no example in 'shapecalc {command} --help'"
    if command:
        assert any(shlex.split(line.split("|")[-1])[1] == command for line in examples), examples


def test_the_alias_has_the_same_help(run_cli) -> None:
    assert _help(run_cli, "convlstm2d") == _help(run_cli, "convlstm").replace(
        "shapecalc convlstm [OPTIONS]", "shapecalc convlstm2d [OPTIONS]"
    )


def _runnable() -> list[tuple[str, str]]:
    from click.testing import CliRunner

    runner = CliRunner()
    found = []
    for command in COMMANDS:
        text = runner.invoke(cli, [*([command] if command else []), "--help"]).output
        found += [(command, line) for line in _examples(text)]
    return found


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``shapecalc`` executable for the shell, whatever is on PATH."""
    directory = tmp_path_factory.mktemp("bin")
    wrapper = directory / "shapecalc"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    return directory


@pytest.mark.parametrize(("command", "example"), _runnable(), ids=lambda v: v[:60] if v else "shapecalc")
def test_every_example_runs(program: Path, tmp_path: Path, command: str, example: str) -> None:
    words = shlex.split(example)
    files = {"model": words[2:], "weights": words[2:], "port": words[2:3]}  # port: FILE, not OUT
    for word in files.get(command, []):
        # A model or weights file the example names runs when the repository ships one by that name.
        if "." in word and not word.startswith("-"):
            shipped = [path for path in ROOT.rglob(word) if ".git" not in path.parts]
            if not shipped:
                pytest.skip(f"the example names a model file this repository does not ship: {word}")
            shutil.copy(shipped[0], tmp_path / word)
    env = {**os.environ, "PATH": f"{program}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    done = subprocess.run(["sh", "-c", example], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, f"{example}\n{done.stderr}"
    assert done.stderr == ""
    assert done.stdout.strip()


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_help_lists_its_options(run_cli, layer: str) -> None:
    text = _help(run_cli, layer)
    assert "--format" in text and "--batch" in text and "--timesteps" in text
    if layer.startswith("convlstm"):
        assert "--kernel" in text and "--padding" in text and "--strides" in text
    else:
        assert "--units" in text and "--input-dim" in text and "--framework" in text
