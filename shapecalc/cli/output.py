"""Where command output goes: the width and colour a renderer is given.

>>> import os; os.environ["COLUMNS"] = "120"; piped_width()
120
"""

from __future__ import annotations

import os
import sys


def piped_width() -> int:
    """The width for piped output: ``$COLUMNS`` when it is a sane number, else 100."""
    text = os.environ.get("COLUMNS", "")
    if text.isascii() and text.isdigit() and 20 <= int(text) <= 1000:
        return int(text)
    return 100


def wants_color(fmt: str) -> bool:
    """Colour for tables on a terminal, unless ``NO_COLOR`` is set."""
    return fmt == "table" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def output_width() -> int | None:
    """``None`` (the renderer's default) on a terminal; :func:`piped_width` otherwise."""
    return None if sys.stdout.isatty() else piped_width()
