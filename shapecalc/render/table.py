"""The default human output: a rich table (colour only on a terminal).

>>> from shapecalc.api import shapes
>>> "recurrent_kernel" in render_table(shapes("lstm", units=32, input_dim=20))
True
"""

from __future__ import annotations

import io
import re
from typing import NamedTuple

from rich import box
from rich.console import Console
from rich.table import Table

from shapecalc.render.inert import terminal_output
from shapecalc.render.rows import COLUMNS, Row, footer_lines, step_rows, summary_rows, title
from shapecalc.result import LayerResult

ROLE_STYLES = {
    "input": "cyan",
    "weight": "magenta",
    "gate": "yellow",
    "state": "green",
    "output": "bold green",
}


#: Narrowest the "meaning" column may get before it gives way altogether.
MEANING_MIN_WIDTH = 12
#: Narrowest tensor names may wrap to before the shapes wrap instead.
NAME_MIN_WIDTH = 8


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
    console.print(_table(result, plan_columns(summary_rows(result), console.width)))
    for line in footer_lines(result):
        console.print(line, overflow="fold")
    if result.explanation is not None:
        _print_steps(console, result)
    # A layer's text is the engine's own (names are checked), so one pass over the whole
    # output suffices; a model's table escapes each cell before rich measures it.
    return tidy(terminal_output(buffer.getvalue(), color=color))


def tidy(text: str) -> str:
    """``text`` without trailing spaces on any line (rich pads every cell to its width), also
    among the colour codes that close a coloured line (one reset stays).

    >>> tidy("a   \\n  \\nb \\x1b[33m  \\x1b[0m\\n")
    'a\\n\\nb\\x1b[0m\\n'
    """
    return "".join(_TRAILING.sub(_closing, line) + "\n" for line in text.splitlines())


#: Spaces and colour codes at the end of a line.
_TRAILING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$")


def _closing(match: re.Match[str]) -> str:
    return "\x1b[0m" if "\x1b" in match[0] else ""


class Plan(NamedTuple):
    """How the tensor table fits a width: which columns show, and what gives way first."""

    meaning: bool = True  # the meaning column shows (it wraps to fit, down to MEANING_MIN_WIDTH)
    per_gate_under_shape: bool = False  # the per-gate shapes sit under each shape, not beside it
    wrap_names: bool = False  # tensor names wrap
    wrap_shapes: bool = False  # the last resort: even shapes wrap


def _chrome(columns: int) -> int:
    # SIMPLE_HEAD: one space of padding each side of a cell, one between cells, one at each edge.
    return 3 * columns + 1


def plan_columns(rows: list[Row], width: int) -> Plan:
    """A shape is never split while another column can give way: the meanings wrap, then go,
    then the per-gate shapes move under the shapes, then the names wrap; only then do shapes.

    >>> from shapecalc.api import shapes
    >>> rows = summary_rows(shapes("lstm", units=32, input_dim=20))
    >>> for width in (100, 80, 60, 48, 30):
    ...     print(width, *plan_columns(rows, width))
    100 True False False False
    80 False False False False
    60 False True False False
    48 False True True False
    30 False True True True
    """
    table = [COLUMNS, *rows]
    widths = [max(len(row[index]) for row in table) for index in range(len(COLUMNS))]
    name, shape, per_gate, params, _ = widths
    beside = name + shape + per_gate + params
    if beside + MEANING_MIN_WIDTH + _chrome(5) <= width:
        return Plan()
    if beside + _chrome(4) <= width:
        return Plan(meaning=False)
    stacked = max(shape, *(len(_under(row)) for row in rows if row.per_gate))
    if name + stacked + params + _chrome(3) <= width:
        return Plan(meaning=False, per_gate_under_shape=True)
    if min(name, NAME_MIN_WIDTH) + stacked + params + _chrome(3) <= width:
        return Plan(meaning=False, per_gate_under_shape=True, wrap_names=True)
    return Plan(meaning=False, per_gate_under_shape=True, wrap_names=True, wrap_shapes=True)


def _under(row: Row) -> str:
    return f"  {row.per_gate}"


def _table(result: LayerResult, plan: Plan) -> Table:
    """The tensor table laid out by ``plan``."""
    table = Table(title=title(result), box=box.SIMPLE_HEAD, title_justify="left", show_lines=False)
    columns = [
        c
        for c in COLUMNS
        if (c != "meaning" or plan.meaning) and (c != "per gate" or not plan.per_gate_under_shape)
    ]
    for column in columns:
        wraps = (
            column == "meaning"
            or (plan.wrap_names and column == "tensor")
            or (plan.wrap_shapes and column == "shape")
        )
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
        cells = {"tensor": row.name, "shape": row.shape, "per gate": row.per_gate, "params": row.params,
                 "meaning": row.meaning}  # fmt: skip
        if plan.per_gate_under_shape and row.per_gate:
            cells["shape"] = f"{row.shape}\n{_under(row)}"
        table.add_row(*(cells[c] for c in columns), style=ROLE_STYLES.get(roles[row.name], ""))
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
