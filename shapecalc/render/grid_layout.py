"""A grid layout for hand-designed diagrams (the recurrent cells).

A diagram names what sits in which grid cell (a box, an operator, an edge
label, ...) and routes its arrows through cell centres. Every column is as wide
as its widest occupant and every row as tall as its tallest, so however long a
symbolic label gets, nothing can overlap: each occupant has a cell of its own,
and an arrow's label sits in a cell the arrow passes through.

>>> from shapecalc.render.drawing import plain_line
>>> cells = {
...     (0, 0): Cell("io", (plain_line("x"),)),
...     (0, 1): Cell("label", (plain_line("(batch, 20)"),)),
...     (0, 2): Cell("op", (plain_line("tanh"),)),
... }
>>> drawing = layout_grid(cells, [Route(((0, 0), (0, 1), (0, 2)))])
>>> [item.kind for item in drawing.items]
['io', 'label', 'op']
>>> drawing.paths[0].points[0][0] == drawing.items[0].rect.right
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shapecalc.render.drawing import (
    FONT_SIZE,
    LABEL_SIZE,
    Drawing,
    Item,
    Path,
    Point,
    Rect,
    TextLine,
    item_size,
)

ROW_GAP = 20.0
COL_GAP = 22.0
MARGIN = 12.0

#: A grid position: ``(row, col)``, or ``(row, col, dx)`` to run ``dx`` px right of the centre.
Anchor = tuple[int, int] | tuple[int, int, float]


@dataclass(frozen=True)
class Cell:
    """What one grid cell holds (see :data:`~shapecalc.render.drawing.ITEM_KINDS`)."""

    kind: str
    lines: tuple[TextLine, ...] = ()
    keys: tuple[str, ...] = ()
    tooltip: str = ""
    style: str = ""


@dataclass(frozen=True)
class Route:
    """An arrow through ``anchors``; label cells on the way must be listed as anchors.

    Consecutive anchors share a row or a column (routes are orthogonal). A
    route that starts on another line (a bus) sets ``branch`` to draw a dot there.
    """

    anchors: tuple[Anchor, ...]
    keys: tuple[str, ...] = ()
    tooltip: str = ""
    arrow: bool = True
    bridge: bool = False
    branch: bool = False


def _cell_of(anchor: Anchor) -> tuple[int, int]:
    return (anchor[0], anchor[1])


def _offset(anchor: Anchor) -> float:
    return float(anchor[2]) if len(anchor) == 3 else 0.0


def layout_grid(cells: Mapping[tuple[int, int], Cell], routes: Sequence[Route]) -> Drawing:
    """Place ``cells`` on a grid sized by their contents and draw ``routes`` between them."""
    sizes = {
        pos: item_size(cell.kind, cell.lines, LABEL_SIZE if cell.kind == "label" else FONT_SIZE)
        for pos, cell in cells.items()
    }
    used_rows = {r for r, _ in cells} | {a[0] for route in routes for a in route.anchors}
    used_cols = {c for _, c in cells} | {a[1] for route in routes for a in route.anchors}
    tallest: dict[int, float] = {}
    widest: dict[int, float] = {}
    for (row, col), (w, h) in sizes.items():
        tallest[row] = max(tallest.get(row, 0.0), h)
        widest[col] = max(widest.get(col, 0.0), w)
    row_tops, row_heights, height = _tracks(used_rows, tallest, ROW_GAP)
    col_lefts, col_widths, width = _tracks(used_cols, widest, COL_GAP)

    def centre(anchor: Anchor) -> Point:
        row, col = _cell_of(anchor)
        return (col_lefts[col] + col_widths[col] / 2 + _offset(anchor), row_tops[row] + row_heights[row] / 2)

    items: dict[tuple[int, int], Item] = {}
    for pos, cell in sorted(cells.items()):
        w, h = sizes[pos]
        cx, cy = centre(pos)
        items[pos] = Item(
            id=f"r{pos[0]}c{pos[1]}",
            kind=cell.kind,
            rect=Rect(round(cx - w / 2, 2), round(cy - h / 2, 2), w, h),
            lines=cell.lines,
            keys=cell.keys,
            tooltip=cell.tooltip,
            style=cell.style,
            size=LABEL_SIZE if cell.kind == "label" else FONT_SIZE,
        )
    paths = [_route_path(route, items, centre) for route in routes]
    return Drawing(round(width, 2), round(height, 2), tuple(items.values()), tuple(paths))


def _tracks(
    used: set[int], extents: Mapping[int, float], gap: float
) -> tuple[dict[int, float], dict[int, float], float]:
    """Start and size of every used row (or column); unused ones take no room."""
    starts: dict[int, float] = {}
    sizes: dict[int, float] = {}
    position = MARGIN
    for index in range(max(used, default=-1) + 1):
        starts[index] = position
        sizes[index] = extents.get(index, 0.0)
        if index in used:
            position += sizes[index] + gap
    return starts, sizes, position - gap + MARGIN


def _route_path(
    route: Route, items: Mapping[tuple[int, int], Item], centre: Callable[[Anchor], Point]
) -> Path:
    points: list[Point] = [centre(anchor) for anchor in route.anchors]
    first = items.get(_cell_of(route.anchors[0]))
    last = items.get(_cell_of(route.anchors[-1]))
    if first is not None and first.kind not in ("junction", "label"):
        points[0] = _on_border(first.rect, points[0], points[1])
    if last is not None and last.kind not in ("junction", "label"):
        points[-1] = _on_border(last.rect, points[-1], points[-2])
    owns = tuple(items[_cell_of(a)].id for a in route.anchors if _cell_of(a) in items)
    dots: tuple[Point, ...] = (points[0],) if route.branch else ()
    dots += tuple(
        centre(a) for a in route.anchors[1:-1] if (item := items.get(_cell_of(a))) and item.kind == "junction"
    )
    return Path(
        points=tuple((round(x, 2), round(y, 2)) for x, y in points),
        owns=owns,
        keys=route.keys,
        tooltip=route.tooltip,
        arrow=route.arrow,
        bridge=route.bridge,
        dots=dots,
    )


def _on_border(rect: Rect, inside: Point, toward: Point) -> Point:
    """Where the axis-parallel segment from ``inside`` to ``toward`` leaves ``rect``."""
    x, y = inside
    tx, ty = toward
    if tx == x:
        return (x, rect.y if ty < y else rect.bottom)
    return (rect.x if tx < x else rect.right, y)
