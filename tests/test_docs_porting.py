"""docs/porting.md shows real output: every ``$ shapecalc ...`` in a console block, run as written
at 100 columns, prints exactly the lines under it; its Python example runs as a doctest."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "porting.md"
_BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return [(m["command"], m["output"]) for m in _BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]


def test_the_page_has_examples() -> None:
    commands = [command for command, _ in _examples()]
    assert "shapecalc port lstm --from keras --to torch --units 32 --input-dim 20" in commands
    assert any("--format python" in command for command in commands)
    assert any("--format json" in command for command in commands)


@pytest.mark.parametrize(("command", "output"), _examples(), ids=lambda v: v[:70])
def test_console_example_is_real_output(tmp_path: Path, command: str, output: str) -> None:
    wrapper = tmp_path / "shapecalc"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, cwd=tmp_path)
    printed = [line.rstrip() for line in (done.stdout + done.stderr).rstrip("\n").split("\n")]
    assert printed == output.rstrip("\n").split("\n")


def test_the_python_example_runs() -> None:
    pytest.importorskip("numpy")
    failures, tried = doctest.testfile(str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_no_line_ends_in_spaces() -> None:
    assert all(line == line.rstrip() for line in PAGE.read_text(encoding="utf-8").splitlines())
