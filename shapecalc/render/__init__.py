"""Renderers: they format a result, never recompute it. :func:`render` is the one way in,
for a layer (:class:`~shapecalc.result.LayerResult`) and a whole model alike.

>>> from shapecalc.api import shapes
>>> render(shapes("lstm", units=4, input_dim=3), "json").startswith("{")
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shapecalc.model.result import ModelResult
    from shapecalc.result import LayerResult


def render(
    result: LayerResult | ModelResult,
    fmt: str,
    *,
    color: bool = False,
    width: int | None = None,
    detail: bool = False,
) -> str:
    """``result`` as text in format ``fmt``; ``detail`` expands a model's recurrent layers.

    The renderers (and the result types) are imported here, when asked for, for start-up
    speed: ``shapecalc.main`` imports :mod:`shapecalc.render.inert` for every error line.
    """
    from shapecalc.result import LayerResult

    if isinstance(result, LayerResult):
        from shapecalc.render.layer import render_layer

        return render_layer(result, fmt, color=color, width=width)
    from shapecalc.render.model_table import render_model

    return render_model(result, fmt, detail=detail, color=color, width=width)
