"""The README's sections, for the tests that run its examples.

Each section sits between ``<!-- begin:NAME -->`` and ``<!-- end:NAME -->`` in README.md.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

README = Path(__file__).resolve().parent.parent / "README.md"


def section(name: str) -> str:
    """The text of README section ``name`` (``core``, ``layers``, ``reliability``, ...)."""
    text = README.read_text(encoding="utf-8")
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    if begin not in text or end not in text:
        raise LookupError(f"README.md has no section {name!r}")
    return text.split(begin, 1)[1].split(end, 1)[0]


@cache
def update_script() -> ModuleType:
    """``scripts/update_readme.py`` as a module: the tables it generates and its scratch folder."""
    spec = importlib.util.spec_from_file_location("update_readme", README.parent / "scripts/update_readme.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
