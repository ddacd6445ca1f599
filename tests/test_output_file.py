"""``-o/--output FILE`` on every command: the same text as stdout, written whole or not at all,
an existing file only with ``--force``, never over the command's own input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "shapecalc" / "examples" / "stacked_lstm.yaml"
COMMANDS = [
    ("lstm", "--units", "4", "--input-dim", "3"),
    ("lstm", "--units", "4", "--input-dim", "3", "--format", "json"),
    ("convlstm", "--filters", "2", "--kernel", "3", "--input", "9", "9", "1", "--format", "svg"),
    ("gru", "--units", "4,8", "--input-dim", "3", "--format", "csv"),
    ("model", str(EXAMPLE), "--format", "markdown"),
    ("layers", "--format", "json"),
    ("examples",),
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_the_file_holds_what_stdout_would(run_cli, tmp_path: Path, args: tuple[str, ...]) -> None:
    printed = run_cli(*args)
    assert printed.code == 0, printed.err
    target = tmp_path / "out"
    written = run_cli(*args, "-o", str(target))
    assert (written.code, written.out, written.err) == (0, "", "")
    assert target.read_bytes().decode("utf-8") == printed.out  # bytes: CSV keeps its CRLF


def test_an_existing_file_needs_force(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("keep")
    refused = run_cli("lstm", "--units", "4", "--input-dim", "3", "--output", str(target))
    assert refused.code == 2 and "exists; give --force to replace it" in refused.err
    assert target.read_text() == "keep"
    forced = run_cli(
        "lstm", "--units", "4", "--input-dim", "3", "-o", str(target), "--force", "--format", "json"
    )
    assert forced.code == 0 and json.loads(target.read_text())["params"] == 128


def test_an_error_leaves_no_file(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "out"
    assert run_cli("lstm", "--units", "0", "--input-dim", "3", "-o", str(target)).code == 2
    assert not target.exists() and os.listdir(tmp_path) == []


def test_the_input_is_never_replaced(run_cli, tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(EXAMPLE.read_text())
    refused = run_cli("model", str(model), "-o", str(model), "--force")
    assert refused.code == 2 and "is the input" in refused.err
    assert model.read_text() == EXAMPLE.read_text()


def test_batch_writes_every_answer(run_cli, tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"layer": "lstm", "units": 4, "input_dim": 3}\n{"layer": "gru"}\n')
    target = tmp_path / "out.jsonl"
    done = run_cli("batch", str(lines), "-o", str(target))
    assert done.code == 1 and done.out == ""
    answers = [json.loads(line) for line in target.read_text().splitlines()]
    assert answers[0]["params"] == 128 and answers[1]["line"] == 2
