"""One layer's result in each format: table, JSON, markdown, SVG, HTML.

>>> from shapecalc.api import shapes
>>> render_layer(shapes("lstm", units=4, input_dim=3), "json").startswith("{")
True
"""

from __future__ import annotations

from shapecalc.errors import ShapecalcError
from shapecalc.options import FORMATS
from shapecalc.result import LayerResult


def render_layer(result: LayerResult, fmt: str, *, color: bool = False, width: int | None = None) -> str:
    """``result`` as text in format ``fmt``; each format's renderer is imported when first used
    (start-up speed: ``--format json`` never loads rich)."""
    if fmt == "json":
        from shapecalc.render.json import render_json

        return render_json(result)
    if fmt == "markdown":
        from shapecalc.render.markdown import render_markdown

        return render_markdown(result)
    if fmt == "table":
        from shapecalc.render.table import render_table

        return render_table(result, color=color, width=width)
    if fmt == "csv":
        from shapecalc.render.csv import render_layer_csv

        return render_layer_csv(result)
    if fmt == "svg":
        from shapecalc.render.svg import render_svg

        return render_svg(result)
    if fmt == "html":
        from shapecalc.render.html import render_html

        return render_html(result)
    raise ShapecalcError(f"must be one of {', '.join(FORMATS)}, got {fmt!r}", option="format")
