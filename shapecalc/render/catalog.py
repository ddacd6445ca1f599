"""The layer classes model files may name (``shapecalc layers``), as a table, JSON or markdown.

>>> print(render_catalog([("Dense", (), "core"), ("SimpleRNN", ("rnn",), "recurrent")], "table"), end="")
class      also  family
Dense            core
SimpleRNN  rnn   recurrent
<BLANKLINE>
2 layer classes; a model file may spell them in any case, with or without underscores.
"""

from __future__ import annotations

import json

from shapecalc.errors import ShapecalcError

Row = tuple[str, tuple[str, ...], str]
#: The formats ``shapecalc layers`` has: a list, not a result with tensors.
CATALOG_FORMATS = ("table", "json", "markdown")
_HEAD = ("class", "also", "family")


def render_catalog(rows: list[Row], fmt: str) -> str:
    """``rows`` (class, other names, family) in format ``fmt``."""
    if fmt == "json":
        entries = [
            {"class": name, "aliases": list(aliases), "family": family} for name, aliases, family in rows
        ]
        return json.dumps({"schema_version": 1, "layers": entries}, indent=2) + "\n"
    cells = [(name, ", ".join(aliases), family) for name, aliases, family in rows]
    footer = (
        f"{len(rows)} layer classes; a model file may spell them in any case, with or without underscores."
    )
    if fmt == "markdown":
        lines = ["| " + " | ".join(_HEAD) + " |", "| --- | --- | --- |"]
        lines += [
            f"| `{name}` | {', '.join(f'`{a}`' for a in aliases.split(', ') if a)} | {family} |"
            for name, aliases, family in cells
        ]
        return "\n".join([*lines, "", footer]) + "\n"
    if fmt != "table":
        raise ShapecalcError(f"must be one of {', '.join(CATALOG_FORMATS)}, got {fmt!r}", option="format")
    widths = [max(len(row[index]) for row in [_HEAD, *cells]) for index in range(len(_HEAD))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [_HEAD, *cells]
    ]
    return "\n".join([*lines, "", footer]) + "\n"


def render_examples(rows: list[tuple[str, str, str]], fmt: str) -> str:
    """The shipped example model files ``(name, format, about)`` as a table or JSON."""
    if fmt == "json":
        entries = [{"name": name, "format": kind, "about": about} for name, kind, about in rows]
        return json.dumps({"schema_version": 1, "examples": entries}, indent=2) + "\n"
    if fmt not in ("table", "markdown"):
        raise ShapecalcError(f"must be one of {', '.join(CATALOG_FORMATS)}, got {fmt!r}", option="format")
    if fmt == "markdown":
        lines = ["| example | format | what it shows |", "| --- | --- | --- |"]
        lines += [f"| `{name}` | {kind} | {about} |" for name, kind, about in rows]
        return "\n".join(lines) + "\n"
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name.ljust(width)}  {kind.ljust(4)}  {about}".rstrip() for name, kind, about in rows]
    return "\n".join([*lines, "", "Run one with: shapecalc model --example NAME"]) + "\n"
