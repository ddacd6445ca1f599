"""The README section on reliability and speed (README.md, section ``reliability``) shows
real output: its console blocks, run in order in one scratch directory, print exactly what
is written under each command (stdout and stderr together, as a terminal shows them)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from readme import section

DOC_TEXT = section("reliability")
_BLOCK = re.compile(r"```console\n\$ (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)


def test_console_examples_are_real_output(tmp_path: Path) -> None:
    examples = [(m["command"], m["output"]) for m in _BLOCK.finditer(DOC_TEXT)]
    assert len(examples) >= 6
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "shapecalc"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m shapecalc "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    for command, output in examples:
        done = subprocess.run(
            ["sh", "-c", command],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        printed = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")]
        assert printed == output.rstrip("\n").split("\n"), command
