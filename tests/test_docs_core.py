"""The README section on the core (README.md, section ``core``) shows real output:
every ``$ shapecalc ...`` in a console block, run as written at 100 columns,
prints exactly the lines under it (trailing spaces aside)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from readme import section

DOC_TEXT = section("core")
_BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return [
        (match["command"], match["output"])
        for match in _BLOCK.finditer(DOC_TEXT)
        if match["command"].startswith("shapecalc ")
    ]


def test_the_doc_has_examples() -> None:
    commands = [command for command, _ in _examples()]
    assert "shapecalc lstm --units 32 --input-dim 20" in commands
    assert "shapecalc convlstm --filters 8 --kernel 3 3 --input 128 128 3" in commands


@pytest.mark.parametrize(("command", "output"), _examples(), ids=lambda v: v[:70])
def test_console_example_is_real_output(tmp_path: Path, command: str, output: str) -> None:
    if "| jq" in command and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    wrapper = tmp_path / "shapecalc"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    printed = [line.rstrip() for line in (done.stdout + done.stderr).rstrip("\n").split("\n")]
    assert printed == output.rstrip("\n").split("\n")
