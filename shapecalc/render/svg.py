"""``--format svg``: the layer's cell drawn with every tensor's shape, and a legend.

>>> from shapecalc.api import shapes
>>> svg = render_svg(shapes("lstm", units=32, input_dim=20))
>>> svg.count('class="item gate'), "W<tspan" in svg, "params 6,784" in svg
(4, True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

from shapecalc.dims import format_shape
from shapecalc.render.cell_diagram import cell_diagram
from shapecalc.render.drawing import (
    FONT_SIZE,
    TITLE_SIZE,
    Drawing,
    Item,
    Rect,
    TextLine,
    item_size,
    plain_line,
)
from shapecalc.render.grid_layout import layout_grid
from shapecalc.render.rows import format_count, title
from shapecalc.render.svg_markup import to_svg
from shapecalc.result import LayerResult

MARGIN = 12.0
GAP = 14.0


def render_svg(result: LayerResult) -> str:
    """The SVG picture of ``result``'s cell (see :mod:`~shapecalc.render.cell_diagram`)."""
    return to_svg(cell_picture(result), title(result), "Cell diagram drawn by shapecalc")


def cell_picture(result: LayerResult) -> Drawing:
    """Title, cell diagram and legend, stacked into one drawing."""
    grid, routes = cell_diagram(result)
    return stack(title(result), layout_grid(grid, routes), legend_lines(result))


def stack(heading: str, body: Drawing, legend: Sequence[TextLine]) -> Drawing:
    """``heading`` above ``body`` above the ``legend`` lines, left-aligned."""
    head_line = plain_line(heading, bold=True)
    head_w, head_h = item_size("text", (head_line,), TITLE_SIZE)
    head = Item(
        "title", "text", Rect(MARGIN, MARGIN, head_w, head_h), (head_line,), size=TITLE_SIZE, align="start"
    )
    top = MARGIN + head_h + GAP - MARGIN  # the body brings its own margin
    moved = body.moved(0, top)
    items = [head, *moved.items]
    height = top + body.height
    width = max(body.width, head_w + 2 * MARGIN)
    if legend:
        legend_w, legend_h = item_size("text", tuple(legend), FONT_SIZE)
        rect = Rect(MARGIN, height, legend_w, legend_h)
        items.append(Item("legend", "text", rect, tuple(legend), align="start"))
        height += legend_h + MARGIN
        width = max(width, legend_w + 2 * MARGIN)
    return Drawing(round(width, 2), round(height, 2), tuple(items), moved.paths)


def legend_lines(result: LayerResult) -> list[TextLine]:
    """The config, what goes in and out, totals and the symbols' key."""
    lines = []
    shapes = {t.name: format_shape(t.shape) for t in result.tensors}
    source = result.cells[0].step_input if result.cells[0].layer == 0 else result.tensors[0]
    label = "input" if source.name == "input" else f"input {source.name}"
    lines.append(plain_line(f"{label} {shapes[source.name]}", keys=(source.name,)))
    for name in result.outputs:
        lines.append(plain_line(f"returns {name} {shapes[name]}", keys=(name,)))
    lines.append(plain_line("; ".join(totals(result))))
    if result.gate_order:
        lines.append(plain_line(f"gate order {', '.join(result.gate_order)}"))
    lines += [plain_line(f"valid when {condition}") for condition in result.constraints]
    convolution = result.cells[0].convolution
    if convolution is not None:
        strides = ", ".join(str(v) for v in convolution.strides)
        lines.append(
            plain_line(
                f"x * W: padding {convolution.padding}, strides ({strides}); h * U: padding same, stride 1"
            )
        )
    lines += [plain_line(text) for text in _drawn_part(result)]
    lines.append(plain_line(_symbols(result)))
    return lines


def totals(result: LayerResult) -> list[str]:
    """``params 6,784`` and, once costs are derived, ``MACs batch*timestep*6656``."""
    parts = [f"params {format_count(result.params)}"]
    if result.costs is not None:
        parts.append(f"MACs {format_count(result.costs.macs)}")
    return parts


def _drawn_part(result: LayerResult) -> list[str]:
    if len(result.cells) == 1:
        return []
    framework = result.cells[0].convention.framework
    if framework == "keras":  # two cells in Keras: Bidirectional
        return ["drawn: the forward cell; the backward cell has the same shapes"]
    if framework == "onnx":  # two cells in ONNX: direction bidirectional
        return ["drawn: direction 0 (forward); direction 1 (backward) has the same shapes"]
    return ["drawn: layer 0, forward; the table lists every layer and direction"]


def _symbols(result: LayerResult) -> str:
    product = "* convolution" if result.cells[0].convolution is not None else "· matrix product"
    if not result.cells[0].gates:
        return f"key: {product}"
    parts = ["σ sigmoid", product, "× element-wise product (⊙)", "+ sum"]
    return "key: " + "; ".join(parts)
