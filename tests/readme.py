"""The README's sections, for the tests that run its examples.

Each section sits between ``<!-- begin:NAME -->`` and ``<!-- end:NAME -->`` in README.md.
"""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def section(name: str) -> str:
    """The text of README section ``name`` (``core``, ``layers``, ``reliability``, ...)."""
    text = README.read_text(encoding="utf-8")
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    if begin not in text or end not in text:
        raise LookupError(f"README.md has no section {name!r}")
    return text.split(begin, 1)[1].split(end, 1)[0]
