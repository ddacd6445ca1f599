"""The README sections on models, pictures and reliability show real output: their console
blocks, run in order in a scratch directory that sees the repository's ``tests/``,
``benchmarks/`` and ``shapecalc/``, print exactly what is written under each command. A
``$ cat FILE`` of a file the repository does not hold writes FILE first (it is the example's
input); timing output (benchmarks) is not compared.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from readme import section, update_script

_BLOCK = re.compile(r"```console\n(?P<body>.*?)```", re.S)


def _commands(text: str) -> list[tuple[str, list[str]]]:
    """Every ``$ command`` of the console blocks in ``text``, with the lines printed under it."""
    commands: list[tuple[str, list[str]]] = []
    for block in _BLOCK.finditer(text):
        for line in block["body"].rstrip("\n").split("\n"):
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line.rstrip())
    return commands


@pytest.mark.parametrize("name", ["models", "weights", "pictures", "reliability"])
def test_console_examples_are_real_output(tmp_path: Path, name: str) -> None:
    commands = _commands(section(name))
    assert len(commands) >= 4
    env = update_script().scratch_folder(tmp_path)
    for command, expected in commands:
        if command.startswith("cat ") and not (tmp_path / command[4:]).exists():
            (tmp_path / command[4:]).write_text("\n".join(expected) + "\n")
            continue
        if command.startswith("python benchmarks/"):
            continue
        done = subprocess.run(
            ["sh", "-c", command],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        printed = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")] if done.stdout else []
        assert printed == expected, command
