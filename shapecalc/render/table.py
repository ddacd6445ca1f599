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

from shapecalc.render.inert import terminal_output
from shapecalc.render.rows import COLUMNS, footer_lines, step_rows, summary_rows, title
from shapecalc.result import LayerResult

ROLE_STYLES = {
    "input": "cyan",
    "weight": "magenta",
    "gate": "yellow",
    "state": "green",
    "output": "bold green",
}


#: Narrowest the "meaning" column may get before the shapes wrap instead.
MEANING_MIN_WIDTH = 12


def text_console(buffer: io.StringIO, *, color: bool = False, width: int | None = None) -> Console:
    """A console writing to ``buffer``: colour only when asked, text printed as it is."""
    return Console(
        file=buffer,
        width=width or 100,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,  # shapes and names are text, never rich markup or :emoji: codes
        emoji=False,
    )


def render_table(result: LayerResult, *, color: bool = False, width: int | None = None) -> str:
    buffer = io.StringIO()
    console = text_console(buffer, color=color, width=width)
    console.print(_table(result, wrap_shapes=not _shapes_fit(result, console.width)))
    for line in footer_lines(result):
        console.print(line, overflow="fold")
    if result.explanation is not None:
        _print_steps(console, result)
    # A layer's text is the engine's own (names are checked), so one pass over the whole
    # output suffices; a model's table escapes each cell before rich measures it.
    return terminal_output(buffer.getvalue(), color=color)


def _shapes_fit(result: LayerResult, width: int) -> bool:
    """Whether every column but "meaning" fits unwrapped, leaving the meanings room to wrap."""
    rows = [COLUMNS, *summary_rows(result)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS) - 1)]
    # SIMPLE_HEAD: one space of padding each side of a cell, plus an edge space between columns.
    chrome = 2 * len(COLUMNS) + len(COLUMNS) + 1
    return sum(widths) + chrome + MEANING_MIN_WIDTH <= width


def _table(result: LayerResult, *, wrap_shapes: bool) -> Table:
    """The tensor table; shapes stay on one line unless they cannot fit beside the meanings."""
    table = Table(title=title(result), box=box.SIMPLE_HEAD, title_justify="left", show_lines=False)
    for column in COLUMNS:
        wraps = column == "meaning" or (wrap_shapes and column in ("shape", "per gate"))
        table.add_column(
            column,
            justify="right" if column == "params" else "left",
            no_wrap=not wraps,
            overflow="fold",
            ratio=1 if column == "meaning" else None,
            # Wide symbolic shapes must not squeeze the meanings into a column of letters.
            min_width=MEANING_MIN_WIDTH if column == "meaning" else None,
        )
    roles = {t.name: t.role for t in result.tensors}
    for row in summary_rows(result):
        table.add_row(*row, style=ROLE_STYLES.get(roles[row.name], ""))
    return table


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
