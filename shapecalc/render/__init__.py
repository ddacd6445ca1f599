"""Renderers: they format a :class:`~shapecalc.result.LayerResult`, never recompute it.

>>> from shapecalc.api import shapes
>>> render(shapes("lstm", units=4, input_dim=3), "json").startswith("{")
True
"""

from __future__ import annotations

from shapecalc.errors import ShapecalcError
from shapecalc.result import LayerResult

FORMATS = ("table", "json", "markdown", "svg", "html")


def render(result: LayerResult, fmt: str, *, color: bool = False, width: int | None = None) -> str:
    """``result`` as text in format ``fmt`` (importing only that format's renderer)."""
    if fmt == "json":
        from shapecalc.render.json import render_json

        return render_json(result)
    if fmt == "markdown":
        from shapecalc.render.markdown import render_markdown

        return render_markdown(result)
    if fmt == "table":
        from shapecalc.render.table import render_table

        return render_table(result, color=color, width=width)
    if fmt == "svg":
        from shapecalc.render.svg import render_svg

        return render_svg(result)
    if fmt == "html":
        from shapecalc.render.html import render_html

        return render_html(result)
    raise ShapecalcError(f"must be one of {', '.join(FORMATS)}, got {fmt!r}", option="format")
