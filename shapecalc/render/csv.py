"""Tables as CSV (RFC 4180: a header row, CRLF line ends, fields quoted where needed).

>>> from shapecalc.api import shapes
>>> print(render_layer_csv(shapes("rnn", units=4, input_dim=3)).splitlines()[1])
input,input,"(batch, timestep, 3)",,0,"x, the input sequence"
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from shapecalc.dims import format_shape, to_json
from shapecalc.model.result import ModelResult
from shapecalc.render.inert import visible
from shapecalc.render.model_rows import shapes_text
from shapecalc.render.rows import summary_rows
from shapecalc.result import LayerResult


def rows_csv(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """``head`` and ``rows`` as CSV text; control characters in a field (a hostile layer name)
    are written as visible escapes, so the file is safe to ``cat`` to a terminal."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(head)
    writer.writerows([visible(str(field)) for field in row] for row in rows)
    return buffer.getvalue()


def render_layer_csv(result: LayerResult) -> str:
    """One row per tensor, as the table shows them (slices folded into ``per_gate``)."""
    roles = {tensor.name: tensor for tensor in result.tensors}
    rows = []
    for row in summary_rows(result):
        tensor = roles[row.name]
        rows.append(
            [
                row.name,
                tensor.role,
                format_shape(tensor.shape),
                row.per_gate,
                to_json(tensor.params),
                row.meaning,
            ]
        )
    return rows_csv(("tensor", "role", "shape", "per_gate", "params", "meaning"), rows)


def render_model_csv(result: ModelResult) -> str:
    """One row per layer: name, class, status, output shape, params, MACs and what it reads."""
    head = (
        "layer",
        "class",
        "status",
        "output_shape",
        "params",
        "non_trainable_params",
        "macs",
        "connected_to",
    )
    rows = [
        [
            row.name,
            row.class_name,
            row.status,
            shapes_text(row.shapes),
            "" if row.params is None else to_json(row.params),
            to_json(row.non_trainable),
            "" if row.macs is None else to_json(row.macs),
            " ".join(str(ref) for ref in row.connected_to),
        ]
        for row in result.rows
    ]
    return rows_csv(head, rows)
