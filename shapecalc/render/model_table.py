"""A model result as a table (like Keras' ``summary()``), markdown or JSON.

Renderers only format what :func:`shapecalc.model.engine.propagate` derived;
``detail`` adds each recurrent layer's single-layer table.

>>> from shapecalc.model.reader import parse_model
>>> from shapecalc.model.engine import propagate
>>> text = b'{"input": [10, 4], "layers": [{"type": "dense", "units": 2}]}'
>>> result = propagate(parse_model(text, "m.json"))
>>> print(render_model(result, "markdown"))
### Model "model" (m.json)
<BLANKLINE>
| layer | class | output shape | params |
| --- | --- | --- | ---: |
| `input` | InputLayer | `(batch, 10, 4)` | 0 |
| `dense` | Dense | `(batch, 10, 2)` | 10 |
<BLANKLINE>
- Total params: 10
- Trainable params: 10
- Non-trainable params: 0
- Weight memory (float32): 40 bytes
- MACs: batch\\*80
- FLOPs: batch\\*160
<BLANKLINE>
"""

from __future__ import annotations

import io
import json

from shapecalc.errors import ShapecalcError
from shapecalc.model.result import OK, ModelResult
from shapecalc.options import FORMATS
from shapecalc.render.inert import cut, markdown_code, markdown_text, terminal, terminal_output
from shapecalc.render.layer import render_layer
from shapecalc.render.model_rows import columns, footer_lines, model_rows, title


def render_model(
    result: ModelResult, fmt: str, *, detail: bool = False, color: bool = False, width: int | None = None
) -> str:
    """``result`` in format ``fmt``; ``detail`` adds every recurrent layer's tensors."""
    if fmt == "json":
        return json.dumps(result.to_json(detail), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        from shapecalc.render.csv import render_model_csv  # imported here for start-up speed

        return render_model_csv(result)
    if fmt in ("svg", "html"):
        # Imported here for start-up speed: tables and JSON never load the SVG layout.
        from shapecalc.render.model_svg import render_model_html, render_model_svg

        return render_model_svg(result) if fmt == "svg" else render_model_html(result)
    if fmt == "markdown":
        text = _markdown(result)
    elif fmt == "table":
        text = _table(result, color=color, width=width)
    else:
        raise ShapecalcError(f"must be one of {', '.join(FORMATS)}, got {fmt!r}", option="format")
    if detail:
        text += _details(result, fmt, color=color, width=width)
    return text


def _markdown(result: ModelResult) -> str:
    heads = columns(result)
    lines = [f"### {markdown_text(title(result))}", ""]
    lines.append("| " + " | ".join(heads) + " |")
    lines.append("| " + " | ".join("---:" if head == "params" else "---" for head in heads) + " |")
    for row in model_rows(result):
        cells = [markdown_code(row.name), markdown_text(row.class_name), markdown_code(row.shape, None)]
        cells.append(markdown_text(row.params))
        if not result.sequential:
            cells.append(markdown_text(row.connected_to))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {markdown_text(line)}" for line in footer_lines(result)]
    return "\n".join(lines) + "\n"


def _table(result: ModelResult, *, color: bool, width: int | None) -> str:
    # Imported here for start-up speed: --format json and markdown never load rich.
    from rich import box
    from rich.table import Table

    from shapecalc.render.table import text_console, tidy

    buffer = io.StringIO()
    console = text_console(buffer, color=color, width=width)
    table = Table(title=terminal(title(result), None), box=box.SIMPLE_HEAD, title_justify="left")
    rows = model_rows(result)
    heads = columns(result)
    cells = [[terminal(cell, None) for cell in (row if not result.sequential else row[:4])] for row in rows]
    keep = _shapes_stay_whole(heads, cells, console.width)
    for head in heads:
        whole = head == "params" or (head == "output shape" and keep)
        table.add_column(
            head,
            justify="right" if head == "params" else "left",
            overflow="fold",
            no_wrap=whole,
            min_width=None if whole else min(_GIVE_WAY_MIN, max(len(head), 1)),
        )
    for row, texts in zip(result.rows, cells, strict=True):
        table.add_row(*texts, style="" if row.status == OK else "red")
    console.print(table)
    for line in footer_lines(result):
        console.print(terminal(line, None), overflow="fold")
    return tidy(terminal_output(buffer.getvalue(), color=color))


#: How narrow the names, classes and connections may wrap before the shapes wrap instead.
_GIVE_WAY_MIN = 8


def _shapes_stay_whole(heads: tuple[str, ...], cells: list[list[str]], width: int) -> bool:
    """Whether the output shapes fit unwrapped with every other column wrapped to its minimum."""
    widths = [max([len(head), *(len(row[index]) for row in cells)]) for index, head in enumerate(heads)]
    needed = sum(
        width_ if head in ("output shape", "params") else min(width_, _GIVE_WAY_MIN)
        for head, width_ in zip(heads, widths, strict=True)
    )
    return needed + 3 * len(heads) + 1 <= width


def _details(result: ModelResult, fmt: str, *, color: bool, width: int | None) -> str:
    parts = []
    for row in result.rows:
        if row.detail is None:
            continue
        heading = f"{cut(row.name)} ({cut(row.class_name)})"
        body = render_layer(row.detail, fmt, color=color, width=width)
        if fmt == "markdown":
            parts.append(f"\n#### {markdown_text(heading)}\n\n{body}")
        else:
            parts.append(f"\n{terminal(heading, None)}\n{body}")
    return "".join(parts)
