"""The docs (README.md and every ``docs/*.md`` page), for the tests that run and check them.

The examples are read and run by ``scripts/update_docs.py`` (``update_script()``), so the tests
and the script that rewrites the pages agree on what an example is and how it runs.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@cache
def update_script() -> ModuleType:
    """``scripts/update_docs.py`` as a module: the examples, how they run, the generated tables."""
    spec = importlib.util.spec_from_file_location("update_docs", ROOT / "scripts/update_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def pages() -> list[Path]:
    """README.md and every ``docs/*.md`` page: the pages whose examples are tests."""
    return list(update_script().pages())


def section(name: str) -> str:
    """The text between ``<!-- begin:NAME -->`` and ``<!-- end:NAME -->``, on whichever page holds
    it (the generated ``options-table`` and ``layer-classes``); exactly one page must."""
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    found = [
        text.split(begin, 1)[1].split(end, 1)[0]
        for text in (page.read_text(encoding="utf-8") for page in pages())
        if begin in text and end in text
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} pages hold a section {name!r}; exactly one should")
    return found[0]


_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1[`~]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\((?P<target><[^>]*>|[^()\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.*?)\s*#*\s*$", re.M)
_HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"(?P<name>[^\"]+)\"")


def prose(text: str) -> str:
    """``text`` without its fenced blocks and code spans: what links and headings live in."""
    return _CODE_SPAN.sub("", _FENCED.sub("", text))


def links(text: str) -> list[str]:
    """The targets of the markdown links and images in ``text`` (outside code).

    >>> links("[a](docs/x.md#y) `[b](no.md)` ![c](images/d.svg)")
    ['docs/x.md#y', 'images/d.svg']
    """
    return [match["target"].strip("<>") for match in _LINK.finditer(prose(text))]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading.

    >>> slug("Whole models: `shapecalc model FILE`"), slug("shapecalc — know thy shapes")
    ('whole-models-shapecalc-model-file', 'shapecalc--know-thy-shapes')
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of a page: its headings' slugs (a repeated one numbered, as GitHub does) and
    explicit ``<a id=...>``/``<a name=...>``."""
    found: set[str] = {match["name"] for match in _HTML_ANCHOR.finditer(text)}
    without_code = _FENCED.sub("", text)
    for match in _HEADING.finditer(without_code):
        base = slug(match["text"])
        name, count = base, 0
        while name in found:
            count += 1
            name = f"{base}-{count}"
        found.add(name)
    return found
