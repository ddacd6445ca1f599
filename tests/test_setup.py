"""The README's two set-up commands are the ones CI runs, and they set up a virtual environment."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block[1].splitlines() if line and not line.startswith("#")]


def test_there_are_two_commands_and_both_use_a_virtual_environment() -> None:
    main_job, tests = _setup_commands()
    for command in (main_job, tests):
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e ")
    assert ".venv/bin/shapecalc lstm" in main_job and ".venv/bin/python -m pytest" in tests


def test_ci_runs_the_readmes_test_command_as_written() -> None:
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8").splitlines()
    assert _setup_commands()[1] in ci


def test_the_virtual_environment_is_not_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".venv/" in ignored
