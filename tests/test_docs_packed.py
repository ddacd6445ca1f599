"""docs/packed-sequences.md shows real output: each ``$ command`` of its console blocks, run at
100 columns in a scratch directory that sees the repository's ``tests/``, prints exactly the lines
written under it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from readme import README, update_script

PAGE = README.parent / "docs" / "packed-sequences.md"
_BLOCK = re.compile(r"```console\n(?P<body>.*?)```", re.S)


def _commands(text: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for block in _BLOCK.finditer(text):
        for line in block["body"].rstrip("\n").split("\n"):
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
    return commands


def test_the_page_prints_what_it_shows(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert not [line for line in text.splitlines() if line != line.rstrip()], "trailing spaces"
    commands = _commands(text)
    assert len(commands) >= 10
    env = update_script().scratch_folder(tmp_path)
    for command, expected in commands:
        done = subprocess.run(
            ["sh", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=120,
        )  # fmt: skip
        printed = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")] if done.stdout else []
        assert printed == expected, command


def test_the_readme_links_the_page() -> None:
    assert "(docs/packed-sequences.md)" in README.read_text(encoding="utf-8")


def test_the_python_example_runs() -> None:
    import doctest

    outcome = doctest.testfile(str(PAGE), module_relative=False)
    assert outcome.attempted >= 4 and outcome.failed == 0
