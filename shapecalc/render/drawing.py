"""What a picture is made of, before it becomes SVG: boxes, labels, arrows.

Layouts (:mod:`~shapecalc.render.grid_layout` for cells,
:mod:`~shapecalc.render.graph_layout` for models) place these primitives;
:mod:`~shapecalc.render.svg_markup` writes them out. Sizes come from a
deliberately generous estimate of monospace text width, so text always fits
its box and the geometry tests can trust the rectangles.

>>> line = math_line("h_{t-1}")
>>> [run.text for run in line.runs], [run.sub for run in line.runs]
(['h', 't-1'], [False, True])
>>> round(line.width(13), 1)
27.0
>>> Rect(0, 0, 10, 10).overlaps(Rect(5, 5, 10, 10)), Rect(0, 0, 10, 10).overlaps(Rect(10, 0, 5, 5))
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

#: Every picture uses one monospace stack, so one width estimate fits them all.
FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
FONT_SIZE = 13.0
LABEL_SIZE = 12.0
TITLE_SIZE = 15.0
SUB_SCALE = 0.75
#: Advance of one ASCII character in em: DejaVu Sans Mono and Menlo are 0.602,
#: Consolas 0.55; the slack covers hinting and bold.
ASCII_EM = 0.64
#: Anything else (σ, ⊙, ⊕, h̃) may come from a fallback font: assume a full em.
OTHER_EM = 1.0
LINE_GAP = 1.45
BOX_PAD_X, BOX_PAD_Y = 10.0, 7.0
LABEL_PAD_X, LABEL_PAD_Y = 5.0, 3.0


def char_width(text: str, size: float) -> float:
    """A width no narrower than ``text`` renders at ``size`` px in the picture's fonts."""
    return sum(ASCII_EM if ord(ch) < 128 else OTHER_EM for ch in text) * size


@dataclass(frozen=True)
class Run:
    """A piece of one text line; ``sub`` pieces are set as subscripts."""

    text: str
    sub: bool = False


@dataclass(frozen=True)
class TextLine:
    """One line of text in a box. ``keys`` name the tensors it shows (for hovering)."""

    runs: tuple[Run, ...]
    bold: bool = False
    keys: tuple[str, ...] = ()
    tooltip: str = ""

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)

    def width(self, size: float) -> float:
        return sum(char_width(run.text, size * SUB_SCALE if run.sub else size) for run in self.runs)


_SUBSCRIPT = re.compile(r"_\{([^{}]*)\}")


def math_runs(text: str) -> tuple[Run, ...]:
    """``"W_{i} (20, 32)"`` -> runs with ``i`` as a subscript (only ``_{...}`` is markup)."""
    runs: list[Run] = []
    position = 0
    for match in _SUBSCRIPT.finditer(text):
        if match.start() > position:
            runs.append(Run(text[position : match.start()]))
        runs.append(Run(match.group(1), sub=True))
        position = match.end()
    if position < len(text):
        runs.append(Run(text[position:]))
    return tuple(runs)


def math_line(text: str, plain: str = "", **options: object) -> TextLine:
    """A line whose first part may hold ``_{...}`` subscripts and whose ``plain``
    tail (a shape: symbol names may contain ``_``) is taken literally."""
    runs = math_runs(text) + ((Run(plain),) if plain else ())
    return TextLine(runs, **options)  # type: ignore[arg-type]


def plain_line(text: str, **options: object) -> TextLine:
    return TextLine((Run(text),), **options)  # type: ignore[arg-type]


#: Longest shape label line; longer shapes wrap after a comma, keeping labels compact.
WRAP = 30


def wrap_shape(text: str, limit: int = WRAP) -> list[str]:
    """A printed shape broken after commas into lines of at most ``limit`` characters
    (a single dimension longer than that keeps its own line).

    >>> wrap_shape("(batch, (frame_height - 3)//2 + 1, (W - 4)//6 + 1, 8)")
    ['(batch,', '(frame_height - 3)//2 + 1,', '(W - 4)//6 + 1, 8)']
    >>> wrap_shape("(batch, 32)")
    ['(batch, 32)']
    """
    parts = text.split(", ")
    lines: list[str] = []
    current = ""
    for index, part in enumerate(parts):
        piece = part + ("," if index < len(parts) - 1 else "")
        if current and len(current) + 1 + len(piece) > limit:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    lines.append(current)
    return lines


def shape_lines(text: str, **options: object) -> tuple[TextLine, ...]:
    """``text`` (a printed shape) as wrapped plain lines, each with ``options``."""
    return tuple(plain_line(line, **options) for line in wrap_shape(text))


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Rect, margin: float = 0.0) -> bool:
        """True when the two rectangles share interior area (touching edges do not)."""
        return (
            self.x < other.right + margin
            and other.x < self.right + margin
            and self.y < other.bottom + margin
            and other.y < self.bottom + margin
        )

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)


#: How each kind of item is drawn: a box, an operator circle, an edge-label pill, ...
ITEM_KINDS = ("io", "gate", "op", "junction", "label", "layer", "text")


@dataclass(frozen=True)
class Item:
    """A placed thing with text: a gate or layer box, an operator, an edge label."""

    id: str
    kind: str
    rect: Rect
    lines: tuple[TextLine, ...]
    keys: tuple[str, ...] = ()
    tooltip: str = ""
    style: str = ""
    size: float = FONT_SIZE
    align: str = "middle"


Point = tuple[float, float]


@dataclass(frozen=True)
class Path:
    """An arrow (or a plain line) through ``points``.

    ``owns`` are the ids of the items it is allowed to touch: the two it joins
    and the labels it carries. ``curved`` draws the slanted parts as smooth
    vertical-tangent curves (they stay inside the segment's bounding box).
    """

    points: tuple[Point, ...]
    owns: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    tooltip: str = ""
    arrow: bool = True
    bridge: bool = False
    curved: bool = False
    dots: tuple[Point, ...] = ()


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    items: tuple[Item, ...] = ()
    paths: tuple[Path, ...] = field(default_factory=tuple)

    def moved(self, dx: float, dy: float) -> Drawing:
        items = tuple(replace(item, rect=item.rect.moved(dx, dy)) for item in self.items)
        paths = tuple(
            replace(
                path,
                points=tuple((x + dx, y + dy) for x, y in path.points),
                dots=tuple((x + dx, y + dy) for x, y in path.dots),
            )
            for path in self.paths
        )
        return Drawing(self.width, self.height, items, paths)


def item_size(kind: str, lines: tuple[TextLine, ...], size: float = FONT_SIZE) -> tuple[float, float]:
    """The width and height an item of ``kind`` needs for ``lines``.

    >>> item_size("op", (plain_line("tanh"),))
    (45.28, 45.28)
    """
    if kind == "junction":
        return (6.0, 6.0)
    widest = max((line.width(size) for line in lines), default=0.0)
    tall = len(lines) * size * LINE_GAP
    if kind == "op":
        diameter = max(30.0, widest + 12.0)
        return (round(diameter, 2), round(diameter, 2))
    if kind == "label":
        return (round(widest + 2 * LABEL_PAD_X, 2), round(tall + 2 * LABEL_PAD_Y, 2))
    if kind == "text":
        return (round(widest, 2), round(tall, 2))
    return (round(widest + 2 * BOX_PAD_X, 2), round(tall + 2 * BOX_PAD_Y, 2))


def collisions(drawing: Drawing) -> list[str]:
    """Everything that overlaps in ``drawing`` (empty when the picture is clean).

    Checks that items lie on the canvas, that no two items share area, and
    that no line crosses an item it does not own. A slanted part of a line is
    judged by its bounding box (a curve never leaves it), so this can only err
    on the strict side.

    >>> a = Item("a", "io", Rect(0, 0, 10, 10), ())
    >>> b = Item("b", "io", Rect(5, 5, 10, 10), ())
    >>> collisions(Drawing(20, 20, (a, b)))
    ['items a and b overlap']
    >>> collisions(Drawing(20, 20, (a,), (Path(((5, 15), (5, -1))),)))
    ['line 0 leaves the canvas', 'line 0 crosses a']
    """
    problems = []
    items = drawing.items
    for item in items:
        r = item.rect
        if r.x < 0 or r.y < 0 or r.right > drawing.width or r.bottom > drawing.height:
            problems.append(f"item {item.id} leaves the canvas")
    for n, first in enumerate(items):
        for second in items[n + 1 :]:
            if first.rect.overlaps(second.rect):
                problems.append(f"items {first.id} and {second.id} overlap")
    for n, path in enumerate(drawing.paths):
        if any(not (0 <= x <= drawing.width and 0 <= y <= drawing.height) for x, y in path.points):
            problems.append(f"line {n} leaves the canvas")
        for start, end in zip(path.points, path.points[1:], strict=False):
            span = Rect(
                min(start[0], end[0]), min(start[1], end[1]), abs(end[0] - start[0]), abs(end[1] - start[1])
            )
            for item in items:
                if item.id not in path.owns and _touches(span, item.rect):
                    problems.append(f"line {n} crosses {item.id}")
    return problems


#: How far a line may graze a box's edge before it counts as crossing (rounding to 0.01 px).
TOLERANCE = 0.5


def _touches(span: Rect, rect: Rect) -> bool:
    """Whether a segment's bounding box (possibly zero-width) reaches into ``rect``'s inside."""
    inner = Rect(rect.x + TOLERANCE, rect.y + TOLERANCE, rect.w - 2 * TOLERANCE, rect.h - 2 * TOLERANCE)
    return span.x < inner.right and inner.x < span.right and span.y < inner.bottom and inner.y < span.bottom
