"""Shell completion: the committed scripts are current, and completing works.

The scripts in ``completions/`` come from ``scripts/generate_completions.py``
(Click's own completion sources); regenerate them with that script when this
test says they are stale.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import get_completion_class

from shapecalc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"bash": "shapecalc.bash", "zsh": "_shapecalc", "fish": "shapecalc.fish"}


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_completions", ROOT / "scripts/generate_completions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_scripts_are_current() -> None:
    generated = _generator().completion_scripts()
    assert set(generated) == set(SHELLS.values())
    for name, text in generated.items():
        committed = (ROOT / "completions" / name).read_text(encoding="utf-8")
        assert committed == text, f"completions/{name} is stale: run python scripts/generate_completions.py"


@pytest.mark.parametrize("shell", SHELLS)
def test_the_program_prints_the_committed_script(shell: str) -> None:
    """``_SHAPECALC_COMPLETE=<shell>_source shapecalc``, the documented Click route, agrees."""
    env = {**os.environ, "_SHAPECALC_COMPLETE": f"{shell}_source"}
    done = subprocess.run([sys.executable, "-m", "shapecalc"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    committed = (ROOT / "completions" / SHELLS[shell]).read_text(encoding="utf-8")
    assert done.stdout.rstrip("\n") == committed.rstrip("\n")


def test_the_generator_check_mode_passes() -> None:
    assert _generator().main(["--check"]) == 0


def _complete(monkeypatch: pytest.MonkeyPatch, line: str, shell: str = "bash") -> list[str]:
    """What ``shell`` would offer after ``line`` (a trailing space starts a new word)."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    monkeypatch.setenv("COMP_WORDS", " ".join(words))
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    completion = get_completion_class(shell)(cli, {}, "shapecalc", "_SHAPECALC_COMPLETE")
    output = completion.complete()
    if shell == "bash":
        return [item.split(",", 1)[1] for item in output.splitlines()]
    return output.splitlines()


def test_layer_names_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _complete(monkeypatch, "shapecalc conv") == ["convlstm1d", "convlstm", "convlstm3d"]
    assert _complete(monkeypatch, "shapecalc l") == ["lstm", "layers"]
    for layer in ("lstm", "gru", "rnn", "convlstm1d", "convlstm", "convlstm3d"):
        assert layer in _complete(monkeypatch, "shapecalc ")


def test_the_alias_completes_and_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _complete(monkeypatch, "shapecalc convlstm2") == ["convlstm2d"]
    assert "--kernel" in _complete(monkeypatch, "shapecalc convlstm2d --ker")
    assert _complete(monkeypatch, "shapecalc convlstm2d --padding ") == ["valid", "same"]


def test_options_of_lstm_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    offered = _complete(monkeypatch, "shapecalc lstm --")
    for option in ("--units", "--input-dim", "--framework", "--format", "--return-sequences", "--num-layers"):
        assert option in offered
    assert "--kernel" not in offered
    assert _complete(monkeypatch, "shapecalc lstm --inp") == ["--input-dim", "--input-size"]
    assert _complete(monkeypatch, "shapecalc convlstm --ker") == ["--kernel-size", "--kernel"]


def test_choices_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _complete(monkeypatch, "shapecalc convlstm --padding ") == ["valid", "same"]
    assert _complete(monkeypatch, "shapecalc lstm --framework ") == ["keras", "torch", "onnx"]
    assert {"table", "json", "markdown"} <= set(_complete(monkeypatch, "shapecalc gru --format "))
    assert _complete(monkeypatch, "shapecalc convlstm --data-format channels_f") == ["channels_first"]


def test_completion_ignores_bad_values_before_the_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half-typed commands are normal while completing: no error, no stray output."""
    assert "--input" in _complete(monkeypatch, "shapecalc convlstm --kernel 3 --in")
    assert "--input-dim" in _complete(monkeypatch, "shapecalc lstm --units H//0 --input-d")


def test_zsh_offers_descriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _complete(monkeypatch, "shapecalc lstm --uni", shell="zsh")
    assert lines[:2] == ["plain", "--units"]
    assert "Hidden size" in lines[2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_script_completes_in_bash(tmp_path: Path) -> None:
    """Source the committed script in a real bash and ask it, as pressing TAB would."""
    program = tmp_path / "shapecalc"
    program.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    program.chmod(0o755)
    script = ROOT / "completions" / "shapecalc.bash"
    probe = (
        f"source {script}\n"
        "COMP_WORDS=(shapecalc convlstm --padding ''); COMP_CWORD=3\n"
        '_shapecalc_completion shapecalc; echo "${COMPREPLY[*]}"\n'
        "COMPREPLY=(); COMP_WORDS=(shapecalc conv); COMP_CWORD=1\n"
        '_shapecalc_completion shapecalc; echo "${COMPREPLY[*]}"\n'
    )
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["valid same", "convlstm1d convlstm convlstm3d"]


@pytest.mark.parametrize("command", ["model", "batch"])
def test_file_arguments_complete_file_names(run_cli, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.setenv("_SHAPECALC_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", f"shapecalc {command} sta")
    monkeypatch.setenv("COMP_CWORD", "2")
    result = run_cli()
    assert (result.code, result.out.splitlines()) == (0, ["file,sta"])
