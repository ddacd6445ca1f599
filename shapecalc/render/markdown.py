"""Markdown output: a GitHub table plus the totals, for READMEs and reviews.

>>> from shapecalc.api import shapes
>>> print(render_markdown(shapes("rnn", units=4, input_dim=3)).splitlines()[0])
### SimpleRNN (keras): units=4, input_dim=3
"""

from __future__ import annotations

from shapecalc.render.rows import COLUMNS, footer_lines, step_rows, summary_rows, title
from shapecalc.result import LayerResult


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(result: LayerResult) -> str:
    lines = [f"### {title(result)}", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("| " + " | ".join("---:" if c == "params" else "---" for c in COLUMNS) + " |")
    for row in summary_rows(result):
        cells = [
            f"`{row.name}`",
            f"`{row.shape}`",
            f"`{row.per_gate}`" if row.per_gate else "",
            row.params,
            row.meaning,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines += [f"- {line}" for line in footer_lines(result)]
    if result.explanation is not None:
        lines += ["", *_steps_section(result)]
    return "\n".join(lines) + "\n"


def _steps_section(result: LayerResult) -> list[str]:
    """The equations of one time step: a table with one row per step, then the notes."""
    lines = ["#### One time step", "", "| equation | shapes |", "| --- | --- |"]
    for row in step_rows(result):
        shapes = ", ".join(f"`{operand}`" for operand in row.operands) + f" → `{row.result}`"
        lines.append(f"| `{_cell(row.equation)}` | {_cell(shapes)} |")
    assert result.explanation is not None
    lines.append("")
    lines += [f"- {note}" for note in result.explanation.notes]
    return lines
