"""The default human output: a rich table (colour only on a terminal).

>>> from shapecalc.api import shapes
>>> "recurrent_kernel" in render_table(shapes("lstm", units=32, input_dim=20))
True
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from shapecalc.render.rows import COLUMNS, footer_lines, step_rows, summary_rows, title
from shapecalc.result import LayerResult

ROLE_STYLES = {
    "input": "cyan",
    "weight": "magenta",
    "gate": "yellow",
    "state": "green",
    "output": "bold green",
}


def render_table(result: LayerResult, *, color: bool = False, width: int | None = None) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or 100,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    table = Table(title=title(result), box=box.SIMPLE_HEAD, title_justify="left", show_lines=False)
    for column in COLUMNS:
        wraps = column == "meaning"
        table.add_column(
            column,
            justify="right" if column == "params" else "left",
            no_wrap=not wraps,
            overflow="fold",
            ratio=1 if wraps else None,
        )
    roles = {t.name: t.role for t in result.tensors}
    for row in summary_rows(result):
        table.add_row(*row, style=ROLE_STYLES.get(roles[row.name], ""))
    console.print(table)
    for line in footer_lines(result):
        console.print(line, overflow="fold")
    if result.explanation is not None:
        _print_steps(console, result)
    return buffer.getvalue()


def _print_steps(console: Console, result: LayerResult) -> None:
    """The equations of one time step, each followed by its operands' shapes, indented."""
    console.print()
    console.print("one time step:", style="bold")
    for row in step_rows(result):
        console.print(f"  {row.equation}", overflow="fold", markup=False)
        words = [f"{operand}," for operand in row.operands[:-1]] + row.operands[-1:] + [f"→ {row.result}"]
        for line in _pack(words, console.width - 4):
            console.print(f"    {line}", style="dim", overflow="fold", markup=False)
    assert result.explanation is not None
    for note in result.explanation.notes:
        console.print(f"where: {note}", overflow="fold", markup=False)


def _pack(words: list[str], width: int) -> list[str]:
    """``words`` joined by spaces into lines of at most ``width``, broken only between words.

    >>> _pack(["x_t: (batch, 20),", "W_i: (20, 32)", "→ i_t: (batch, 32)"], 33)
    ['x_t: (batch, 20), W_i: (20, 32)', '→ i_t: (batch, 32)']
    """
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
