"""A sweep as one comparison table: a row per config, its swept values and what it costs.

>>> from shapecalc.sweep import sweep
>>> print(render_sweep(sweep("lstm", {"units": "16,32", "input_dim": "20"}), "csv"), end="")
units,params,macs,flops,weight_bytes,output_shape\r
16,2368,batch*timestep*2304,batch*timestep*4816,9472,"(batch, 16)"\r
32,6784,batch*timestep*6656,batch*timestep*13728,27136,"(batch, 32)"\r
"""

from __future__ import annotations

import json
from typing import Any

from shapecalc.dims import Dim, format_shape, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.render.csv import rows_csv
from shapecalc.render.inert import markdown_text
from shapecalc.render.rows import format_count
from shapecalc.sweep import SweepResult, SweepRow

#: The formats a sweep has (it is a table, not a picture).
SWEEP_FORMATS = ("table", "json", "markdown", "csv")
_COUNTS = ("params", "macs", "flops", "weight_bytes")
_HEADINGS = {"params": "params", "macs": "MACs", "flops": "FLOPs", "weight_bytes": "weight bytes"}


def _counts(row: SweepRow) -> dict[str, Dim]:
    result, costs = row.result, row.result.costs
    assert costs is not None  # derive always counts them
    return {
        "params": result.params,
        "macs": costs.macs,
        "flops": costs.flops,
        "weight_bytes": costs.weight_bytes,
    }


def _output(row: SweepRow) -> tuple[Dim, ...]:
    return row.result.tensor(row.result.outputs[0]).shape


def _value_text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def render_sweep(result: SweepResult, fmt: str) -> str:
    """``result`` in format ``fmt`` (table, json, markdown or csv)."""
    if fmt == "json":
        rows = [
            {
                "values": {key: _json_value(value) for key, value in row.values.items()},
                **{key: to_json(count) for key, count in _counts(row).items()},
                "output_shape": [to_json(size) for size in _output(row)],
                "config": row.result.config,
            }
            for row in result.rows
        ]
        document = {"schema_version": 1, "layer": result.layer, "swept": list(result.keys), "rows": rows}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        head = [*result.keys, *_COUNTS, "output_shape"]
        values = (
            [*map(_value_text, row.values.values()), *_counts(row).values(), format_shape(_output(row))]
            for row in result.rows
        )
        return rows_csv(head, values)
    head = [*result.keys, *(_HEADINGS[key] for key in _COUNTS), "output shape"]
    cells = [
        [
            *map(_value_text, row.values.values()),
            *(format_count(v) for v in _counts(row).values()),
            format_shape(_output(row)),
        ]
        for row in result.rows
    ]
    title = f"{result.layer}: {len(result.rows)} configs"
    if fmt == "markdown":
        lines = [f"### {title}", "", "| " + " | ".join(head) + " |"]
        lines.append("| " + " | ".join("---:" if h in _HEADINGS.values() else "---" for h in head) + " |")
        lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if fmt != "table":
        raise ShapecalcError(f"must be one of {', '.join(SWEEP_FORMATS)}, got {fmt!r}", option="format")
    widths = [max(len(row[index]) for row in [head, *cells]) for index in range(len(head))]
    numeric = {index for index, h in enumerate(head) if h in _HEADINGS.values()}

    def line(row: list[str]) -> str:
        padded = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([title, "", line(head), rule, *map(line, cells)]) + "\n"


def _json_value(value: Any) -> Any:
    """A swept value as JSON: numbers as numbers, names as text."""
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value
