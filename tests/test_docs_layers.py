"""The README section on layers (README.md, section ``layers``) shows real output:
each ``$ shapecalc ...`` console example prints exactly the lines under it."""

from __future__ import annotations

from pathlib import Path

import pytest
from readme import section
from test_docs_core import _BLOCK
from test_docs_core import test_console_example_is_real_output as check_console_example

DOC_TEXT = section("layers")
EXAMPLES = [(match["command"], match["output"]) for match in _BLOCK.finditer(DOC_TEXT)]


def test_the_doc_has_a_keras_and_a_pytorch_example() -> None:
    commands = [command for command, _ in EXAMPLES]
    assert "shapecalc gru --units 32 --input-dim 20" in commands
    assert any("--framework torch" in command and "--proj-size" in command for command in commands)


@pytest.mark.parametrize(("command", "output"), EXAMPLES, ids=lambda v: v[:70])
def test_console_example_is_real_output(tmp_path: Path, command: str, output: str) -> None:
    check_console_example(tmp_path, command, output)
