"""Golden files: the table (100 columns, no colour), JSON and markdown output of
the two everyday commands (an LSTM and a ConvLSTM2D) and a handful of other layers, byte for byte.

After a deliberate change to the output, rewrite them and review the diff::

    SHAPECALC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

The second half checks that the three formats agree: every tensor name and
shape in the JSON appears, printed the same way, in the markdown and the table.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
FORMATS = {"table": "txt", "json": "json", "markdown": "md"}

#: Case name -> command-line arguments (after ``shapecalc``).
CASES: dict[str, tuple[str, ...]] = {
    "notes_lstm": ("lstm", "--units", "32", "--input-dim", "20"),
    "notes_convlstm": ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "128", "128", "3"),
    "notes_convlstm_symbolic": ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3"),
    "convlstm_strided_symbolic": (
        *("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3"),
        *("--strides", "2", "2"),
    ),
    "convlstm_same_padding": (
        *("convlstm2d", "--filters", "16", "--kernel", "5", "5", "--input", "W", "H", "C"),
        *("--padding", "same", "--strides", "2", "1", "--return-sequences", "--return-state"),
    ),
    "convlstm3d_channels_first": (
        *("convlstm3d", "--filters", "4", "--kernel", "3", "3", "3", "--input", "1", "D", "32", "32"),
        *("--data-format", "channels_first", "--dilation", "1", "2", "2", "--batch", "8"),
    ),
    "lstm_symbolic_bidirectional": (
        *("lstm", "--units", "U", "--input-dim", "D", "--bidirectional", "--return-state"),
        *("--timesteps", "T"),
    ),
    "gru": ("gru", "--units", "16", "--input-dim", "8", "--return-sequences", "--return-state"),
    "gru_no_reset_after": ("gru", "--units", "16", "--input-dim", "8", "--no-reset-after", "--no-bias"),
    "torch_lstm_stacked_bidirectional_proj": (
        *("lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20"),
        *("--num-layers", "2", "--bidirectional", "--proj-size", "16"),
    ),
    "torch_gru_batch_first": (
        *("gru", "--framework", "torch", "--hidden-size", "H", "--input-size", "10"),
        *("--batch-first", "--batch", "4"),
    ),
    "onnx_lstm_bidirectional_peepholes": (
        *("lstm", "--framework", "onnx", "--hidden-size", "32", "--input-size", "20"),
        *("--direction", "bidirectional", "--peepholes"),
    ),
    "onnx_gru_layout1_symbolic": (
        *("gru", "--framework", "onnx", "--hidden-size", "H", "--input-size", "10"),
        *("--layout", "1", "--batch", "4", "--linear-before-reset"),
    ),
}

PARAMS = [(case, fmt) for case in CASES for fmt in FORMATS]


def _output(run_cli, case: str, fmt: str) -> str:
    result = run_cli(*CASES[case], "--format", fmt)
    assert result.code == 0, result.err
    assert result.err == ""
    return result.out


@pytest.mark.parametrize(("case", "fmt"), PARAMS, ids=[f"{c}.{FORMATS[f]}" for c, f in PARAMS])
def test_output_matches_its_golden_file(run_cli, monkeypatch, case: str, fmt: str) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = GOLDEN / fmt / f"{case}.{FORMATS[fmt]}"
    out = _output(run_cli, case, fmt)
    if os.environ.get("SHAPECALC_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run SHAPECALC_UPDATE_GOLDEN=1 pytest {__file__}"
    assert out == path.read_text(encoding="utf-8")


def test_piped_table_has_no_colour_and_fits_100_columns(run_cli) -> None:
    out = _output(run_cli, "notes_convlstm", "table")
    assert "\x1b[" not in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_no_stale_golden_files() -> None:
    expected = {f"{fmt}/{case}.{ext}" for case in CASES for fmt, ext in FORMATS.items()}
    found = {f"{fmt}/{path.name}" for fmt in FORMATS for path in (GOLDEN / fmt).glob("*")}
    assert found == expected


# --------------------------------------------------------------------------- the formats agree
def _count(value: int | str) -> str:
    """A JSON count as the table prints it: ``6,784``; ``batch*timestep*6,656``."""
    if isinstance(value, int):
        return f"{value:,}"
    return re.sub(r"(?<![A-Za-z_0-9])[0-9]{4,}", lambda m: f"{int(m[0]):,}", value)


def _shape(dims: list[int | str]) -> str:
    """A JSON shape printed as the table and markdown print it: ``(batch, 32)``, ``(128,)``."""
    items = [str(d) for d in dims]
    return f"({items[0]},)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _table_cells(table: str) -> list[tuple[str, str, str, str]]:
    """(tensor, shape, per gate, params) of every row, wrapped cells joined again.

    Columns are cut at the header's offsets; rich wraps at spaces, so a wrapped
    cell is its lines joined by one space. Params are right-aligned on a row's
    first line. The table may have dropped the meaning column, and may have moved the
    per-gate shapes under the shapes (indented two spaces) when the width asked it to.
    """
    lines = table.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("  tensor "))
    title = lines[header]
    beside = "per gate" in title
    shape_end = title.index("per gate") if beside else title.index("params") - 8
    params_end = title.index("params") + len("params")
    name_end, shape_start = title.index("shape"), title.index("shape")
    cells: list[list[str]] = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        name, shape = line[:name_end].strip(), line[shape_start:shape_end].rstrip()
        rest = line[shape_end:params_end].strip()
        if name:
            if beside:
                per_gate, _, params = rest.rpartition("   ") if "   " in rest else ("", "", rest)
                if params.startswith("("):  # a per-gate cell without params
                    per_gate, params = params, ""
            else:
                per_gate, params = "", rest
            cells.append([name, shape.strip(), per_gate.strip(), params.strip()])
        else:
            row = cells[-1]
            if not beside and shape.startswith("  "):
                row[2] = f"{row[2]} {shape.strip()}".strip()
                continue
            for index, part in ((1, shape.strip()), (2, rest if beside else "")):
                if part:
                    row[index] = f"{row[index]} {part}".strip()
    return [(name, shape, per_gate, params) for name, shape, per_gate, params in cells]


@pytest.mark.parametrize("case", CASES)
def test_json_markdown_and_table_agree(run_cli, case: str) -> None:
    data = json.loads(_output(run_cli, case, "json"))
    markdown = re.sub(r"\\(.)", r"\1", _output(run_cli, case, "markdown"))  # unescaped: as it reads
    table = _output(run_cli, case, "table")
    rows = [t for t in data["tensors"] if "slice_of" not in t]
    slices: dict[str, list[str]] = {}
    for tensor in data["tensors"]:
        if "slice_of" in tensor:
            slices.setdefault(tensor["slice_of"], []).append(_shape(tensor["shape"]))

    markdown_rows = [line for line in markdown.splitlines() if line.startswith("| `")]
    assert len(markdown_rows) == len(rows)
    for tensor, line in zip(rows, markdown_rows, strict=True):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells[0] == f"`{tensor['name']}`"
        assert cells[1] == f"`{_shape(tensor['shape'])}`"
        parts = slices.get(tensor["name"], [])
        for part in parts:
            assert part in cells[2], (tensor["name"], cells[2])
        assert cells[3] == (_count(tensor["params"]) if tensor["role"] == "weight" else "")

    table_rows = _table_cells(table)
    assert [row[0] for row in table_rows] == [t["name"] for t in rows]
    for tensor, (_, shape, per_gate, params) in zip(rows, table_rows, strict=True):
        assert shape == _shape(tensor["shape"])
        for part in slices.get(tensor["name"], []):
            assert part in per_gate, (tensor["name"], per_gate)
        assert params == (_count(tensor["params"]) if tensor["role"] == "weight" else "")

    total = f"params: {_count(data['params'])}"
    assert total in table.splitlines()
    assert f"- {total}" in markdown.splitlines()
    for constraint in data["constraints"]:
        assert f"valid when: {constraint}" in table
        assert f"- valid when: {constraint}" in markdown
