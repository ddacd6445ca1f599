"""Markdown output: a GitHub table plus the totals, for READMEs and reviews.

>>> from shapecalc.api import shapes
>>> print(render_markdown(shapes("rnn", units=4, input_dim=3)).splitlines()[0])
### SimpleRNN (keras): units=4, input_dim=3
"""

from __future__ import annotations

from shapecalc.render.inert import markdown_code, markdown_text
from shapecalc.render.rows import COLUMNS, footer_lines, step_rows, summary_rows, title
from shapecalc.result import LayerResult


def render_markdown(result: LayerResult) -> str:
    lines = [f"### {markdown_text(title(result))}", ""]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("| " + " | ".join("---:" if c == "params" else "---" for c in COLUMNS) + " |")
    for row in summary_rows(result):
        cells = [
            markdown_code(row.name, None),
            markdown_code(row.shape, None),
            markdown_code(row.per_gate, None) if row.per_gate else "",
            markdown_text(row.params),
            markdown_text(row.meaning),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {markdown_text(line)}" for line in footer_lines(result)]
    if result.explanation is not None:
        lines += ["", *_steps_section(result)]
    return "\n".join(lines) + "\n"


def _steps_section(result: LayerResult) -> list[str]:
    """The equations of one time step: a table with one row per step, then how to read them."""
    lines = ["#### One time step", "", "| equation | shapes |", "| --- | --- |"]
    for row in step_rows(result):
        operands = ", ".join(markdown_code(operand, None) for operand in row.operands)
        shapes = f"{operands} → {markdown_code(row.result, None)}"
        lines.append(f"| {markdown_code(row.equation, None)} | {shapes} |")
    assert result.explanation is not None
    lines.append("")
    lines += [f"- {markdown_text(note)}" for note in result.explanation.notes]
    return lines
