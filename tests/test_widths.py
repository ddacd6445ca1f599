"""Tables fit the terminal: ``COLUMNS`` when set, the terminal's own width on a tty, 100 when
piped without either; no line ends in spaces; a shape is never split while another column can
give way. Checked through ``COLUMNS`` and on a real pseudo-terminal (``script``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

COMMANDS = [
    ("lstm", "--units", "32", "--input-dim", "20"),
    ("convlstm", "--filters", "8", "--kernel", "3", "--input", "W", "H", "3", "--strides", "2"),
    ("lstm", "--framework", "torch", "--hidden-size", "64", "--input-size", "32", "--num-layers", "2",
     "--bidirectional", "--proj-size", "16"),
    ("gru", "--units", "U", "--input-dim", "D", "--bidirectional", "--return-state", "--explain"),
]  # fmt: skip
WIDTHS = [60, 80, 100, 140]
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _shapes(args: tuple[str, ...]) -> list[str]:
    """Every tensor's shape as the table prints it, from the command's own JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "shapecalc", *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    shapes = []
    for tensor in json.loads(done.stdout)["tensors"]:
        if "slice_of" not in tensor:
            items = [str(d) for d in tensor["shape"]]
            shapes.append(f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")")
    return shapes


def _check(text: str, width: int, args: tuple[str, ...]) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, (width, max(lines, key=len))
    assert all(line == line.rstrip() for line in lines), "a line ends in spaces"
    assert "\n\n\n" not in text and not text.endswith("\n\n"), "padding lines"
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("params: "))]
    shapes = _shapes(args)
    # Shapes may wrap only when the widest cannot fit beside names wrapped to 8 and the params.
    if max(map(len, shapes)) + 8 + 6 + 10 <= width:
        for shape in shapes:
            assert any(shape in line for line in table), (width, shape)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_the_table_fits_columns(width: int, args: tuple[str, ...]) -> None:
    env = {**os.environ, "COLUMNS": str(width)}
    done = subprocess.run(
        [sys.executable, "-m", "shapecalc", *args], capture_output=True, text=True, env=env, check=True
    )
    _check(done.stdout, width, args)


def test_piped_without_columns_is_100_wide() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    args = COMMANDS[2]
    done = subprocess.run([sys.executable, "-m", "shapecalc", *args], capture_output=True, text=True, env=env)
    assert max(len(line) for line in done.stdout.splitlines()) <= 100
    assert max(len(line) for line in done.stdout.splitlines()) > 80  # it uses the room


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux script is not installed")
@pytest.mark.parametrize("width", [80, 140])
def test_a_real_terminal_gives_its_width(width: int) -> None:
    """On a pseudo-terminal of ``width`` columns (no COLUMNS), the table takes that width."""
    args = COMMANDS[0]
    command = " ".join([f"stty cols {width} rows 50;", sys.executable, "-m", "shapecalc", *args])
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    done = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout
    text = _COLOUR.sub("", done.stdout.replace("\r", ""))
    assert "\x1b" in done.stdout  # a terminal gets colour
    _check(text, width, args)
    wide = width >= 100
    assert ("meaning" in text.splitlines()[2]) is wide  # at 80 the meanings give way first
