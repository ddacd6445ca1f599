"""User output speaks for itself: no layer command, in any format, refers to "the notes"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

#: Every cell kind and convention, with the options that add notes of their own.
COMMANDS = [
    ("lstm", "--units", "32", "--input-dim", "20"),
    ("lstm", "--units", "U", "--input-dim", "D", "--bidirectional", "--return-state"),
    ("gru", "--units", "16", "--input-dim", "8"),
    ("gru", "--units", "16", "--input-dim", "8", "--no-reset-after", "--no-bias"),
    ("rnn", "--units", "16", "--input-dim", "8"),
    ("convlstm1d", "--filters", "4", "--kernel", "3", "--input", "W", "3"),
    ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "128", "128", "3"),
    ("convlstm3d", "--filters", "4", "--kernel", "3", "3", "3", "--input", "D", "32", "32", "1"),
    ("lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20", "--proj-size", "16"),
    ("gru", "--framework", "torch", "--hidden-size", "H", "--input-size", "10", "--num-layers", "2"),
    ("rnn", "--framework", "torch", "--hidden-size", "8", "--input-size", "4", "--bidirectional"),
]
FORMATS = ("table", "json", "markdown", "svg", "html")


def _texts(value: Any) -> Iterator[str]:
    """Every string value inside a JSON document (keys such as ``notes`` are the contract)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_output_mentions_the_notes(run_cli, command: tuple[str, ...], fmt: str) -> None:
    done = run_cli(*command, "--explain", "--format", fmt)
    assert done.code == 0, done.err
    texts = list(_texts(json.loads(done.out))) if fmt == "json" else [done.out]
    assert not [text for text in texts if "notes" in text.lower()]
