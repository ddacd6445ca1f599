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

from shapecalc.render.rows import COLUMNS, footer_lines, summary_rows, title
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
    return buffer.getvalue()
