"""docs/porting-files.md shows real output: every ``$ shapecalc ...`` in a console block, run as
written at 100 columns in a scratch folder that sees the repository's ``tests/``, prints exactly
the lines under it."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "porting-files.md"
_BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)
EXTRAS = ("numpy", "safetensors", "h5py", "onnx")


def _examples() -> list[tuple[str, str]]:
    return [(m["command"], m["output"]) for m in _BLOCK.finditer(PAGE.read_text(encoding="utf-8"))]


def test_the_page_shows_each_target() -> None:
    commands = " ".join(command for command, _ in _examples())
    assert all(f"--to {to}" in commands for to in ("torch", "keras", "onnx"))


@pytest.mark.parametrize(("command", "output"), _examples(), ids=lambda v: v[:70])
def test_console_example_is_real_output(tmp_path: Path, command: str, output: str) -> None:
    for module in EXTRAS:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[port,h5,onnx]'")
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    wrapper = tmp_path / "bin" / "shapecalc"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, cwd=tmp_path)
    printed = [line.rstrip() for line in (done.stdout + done.stderr).rstrip("\n").split("\n")]
    assert printed == output.rstrip("\n").split("\n")


def test_no_line_ends_in_spaces() -> None:
    assert all(line == line.rstrip() for line in PAGE.read_text(encoding="utf-8").splitlines())
