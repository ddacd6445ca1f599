"""A :class:`~shapecalc.render.drawing.Drawing` written out as SVG text.

Plain string building with careful escaping (no XML library needed to write);
text stays text, so it is selectable and searchable. Elements that show a
tensor carry ``data-tensor="name ..."`` for the HTML page's highlighting.

>>> from shapecalc.render.drawing import Drawing
>>> svg = to_svg(Drawing(10, 10), "a <title> & more")
>>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"'), "a &lt;title&gt; &amp; more" in svg
(True, True)
>>> number(12.5), number(3.0), number(-0.004)
('12.5', '3', '0')
"""

from __future__ import annotations

from shapecalc.render.drawing import (
    BOX_PAD_X,
    BOX_PAD_Y,
    FONT_FAMILY,
    LABEL_PAD_Y,
    LINE_GAP,
    SUB_SCALE,
    Drawing,
    Item,
    Path,
    TextLine,
)
from shapecalc.render.inert import xml

ARROW_ID = "sc-arrow"

STYLE = """
.sc text{font-family:FONTS;fill:#1f2328}
.sc .box{fill:#fff;stroke:#57606a;stroke-width:1.2}
.sc .io>.box{fill:#ddf4ff;stroke:#0969da}
.sc .gate.sigmoid>.box{fill:#fff1e5;stroke:#bc4c00}
.sc .gate.tanh>.box{fill:#fbefff;stroke:#8250df}
.sc .gate.proj>.box{fill:#dafbe1;stroke:#1a7f37}
.sc .layer>.box{fill:#f6f8fa;stroke:#424a53}
.sc .layer.input>.box{fill:#ddf4ff;stroke:#0969da}
.sc .layer.unknown>.box{fill:#ffebe9;stroke:#cf222e;stroke-dasharray:4 3}
.sc .label>.box{fill:#fff;stroke:#d0d7de}
.sc .label>text{fill:#0550ae}
.sc .op>text{font-weight:bold}
.sc .edge{fill:none;stroke:#57606a;stroke-width:1.4}
.sc .halo{fill:none;stroke:#fff;stroke-width:7}
.sc .dot,.sc .head{fill:#57606a}
.sc .muted{fill:#57606a}
.sc .hl>.box,.sc .box.hl{stroke:#cf222e;stroke-width:3}
.sc .hl>text,.sc text.hl{fill:#cf222e;font-weight:bold}
.sc .edge.hl{stroke:#cf222e;stroke-width:3}
""".replace("FONTS", FONT_FAMILY)


def number(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def escape(text: str) -> str:
    """Text for XML: markup characters escaped, characters XML 1.0 forbids (and other controls,
    bidi overrides) written visibly; every text and attribute of a picture or a page passes here."""
    return xml(text)


def _tensor_attr(keys: tuple[str, ...]) -> str:
    return f' data-tensor="{escape(" ".join(keys))}"' if keys else ""


def _title(tooltip: str) -> str:
    return f"<title>{escape(tooltip)}</title>" if tooltip else ""


def to_svg(drawing: Drawing, title: str, description: str = "") -> str:
    """The whole SVG document for ``drawing`` (``title`` is its accessible name)."""
    width, height = number(drawing.width), number(drawing.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sc" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="sc-title">',
        f'<title id="sc-title">{escape(title)}</title>',
    ]
    if description:
        out.append(f"<desc>{escape(description)}</desc>")
    out.append(f"<style>{STYLE}</style>")
    out.append(
        f'<defs><marker id="{ARROW_ID}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path class="head" d="M0,0L10,5L0,10z"/></marker></defs>'
    )
    out.append(f'<rect width="{width}" height="{height}" fill="#fff"/>')
    for path in drawing.paths:
        out += _path(path)
    for item in drawing.items:
        out.append(_item(item))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def path_data(path: Path) -> str:
    """``M``/``L`` commands; with ``curved``, slanted steps become vertical-tangent curves."""
    (x0, y0), rest = path.points[0], path.points[1:]
    parts = [f"M{number(x0)},{number(y0)}"]
    previous = path.points[0]
    for x, y in rest:
        px, py = previous
        if path.curved and px != x and py != y:
            mid = number((py + y) / 2)
            parts.append(f"C{number(px)},{mid} {number(x)},{mid} {number(x)},{number(y)}")
        else:
            parts.append(f"L{number(x)},{number(y)}")
        previous = (x, y)
    return "".join(parts)


def _path(path: Path) -> list[str]:
    d = path_data(path)
    lines = [f'<path class="halo" d="{d}"/>'] if path.bridge else []
    marker = f' marker-end="url(#{ARROW_ID})"' if path.arrow else ""
    lines.append(f'<path class="edge" d="{d}"{marker}{_tensor_attr(path.keys)}>{_title(path.tooltip)}</path>')
    lines += [f'<circle class="dot" cx="{number(x)}" cy="{number(y)}" r="3.2"/>' for x, y in path.dots]
    return lines


def _item(item: Item) -> str:
    rect = item.rect
    classes = " ".join(part for part in ("item", item.kind, item.style) if part)
    # A gate box shows several tensors: its lines carry their own keys instead of the group.
    group_keys = item.keys if item.kind != "gate" else ()
    parts = [f'<g class="{classes}"{_tensor_attr(group_keys)}>', _title(item.tooltip)]
    shape_keys = item.keys if item.kind == "gate" else ()
    geometry = f'x="{number(rect.x)}" y="{number(rect.y)}" width="{number(rect.w)}" height="{number(rect.h)}"'
    if item.kind == "junction":
        parts.append(f'<circle class="dot" cx="{number(rect.cx)}" cy="{number(rect.cy)}" r="3.2"/>')
    elif item.kind == "op":
        radius = number(rect.w / 2)
        parts.append(f'<circle class="box" cx="{number(rect.cx)}" cy="{number(rect.cy)}" r="{radius}"/>')
    elif item.kind != "text":
        corner = {"io": rect.h / 2, "label": 4.0}.get(item.kind, 6.0)
        parts.append(f'<rect class="box" {geometry} rx="{number(corner)}"{_tensor_attr(shape_keys)}/>')
    parts += _text_lines(item)
    parts.append("</g>")
    return "".join(parts)


def _text_lines(item: Item) -> list[str]:
    rect, size = item.rect, item.size
    step = size * LINE_GAP
    pad_y = LABEL_PAD_Y if item.kind == "label" else 0.0 if item.kind == "text" else BOX_PAD_Y
    top = rect.cy - len(item.lines) * step / 2 if item.kind == "op" else rect.y + pad_y
    x = rect.x + BOX_PAD_X if item.align == "start" and item.kind != "text" else rect.x
    if item.align == "middle":
        x = rect.cx
    out = []
    for index, line in enumerate(item.lines):
        baseline = top + index * step + step / 2 + size * 0.35
        out.append(_text(line, x, baseline, size, item.align))
    return out


def _text(line: TextLine, x: float, baseline: float, size: float, align: str) -> str:
    attrs = f'x="{number(x)}" y="{number(baseline)}" font-size="{number(size)}"'
    if align == "middle":
        attrs += ' text-anchor="middle"'
    if line.bold:
        attrs += ' font-weight="bold"'
    attrs += _tensor_attr(line.keys)
    body: list[str] = []
    shift = 0.0
    for run in line.runs:
        target = size * 0.3 if run.sub else 0.0
        run_attrs = ""
        if target != shift:
            run_attrs += f' dy="{number(target - shift)}"'
            shift = target
        if run.sub:
            run_attrs += f' font-size="{number(size * SUB_SCALE)}"'
        text = escape(run.text)
        body.append(f"<tspan{run_attrs}>{text}</tspan>" if run_attrs else text)
    return f"<text {attrs}>{_title(line.tooltip)}{''.join(body)}</text>"
