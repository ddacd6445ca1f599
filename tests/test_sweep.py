"""What-if sweeps: lists and ranges of sizes, one row per combination, each row the very answer
of the single command; CSV for every table."""

from __future__ import annotations

import csv
import io
import json

import pytest

from shapecalc.api import shapes
from shapecalc.errors import ShapecalcError
from shapecalc.sweep import MAX_COMBINATIONS, choices, expand, sort_rows, sweep


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("32,64,128", ("32", "64", "128")),
        ("32:512:x2", ("32", "64", "128", "256", "512")),
        ("32:100:x2", ("32", "64")),
        ("8:32:8", ("8", "16", "24", "32")),
        ("1:4", ("1", "2", "3", "4")),
        ("4,8:16:x2,W", ("4", "8", "16", "W")),
        ("H - 2,H", ("H - 2", "H")),
    ],
)
def test_lists_and_ranges(text: str, values: tuple[str, ...]) -> None:
    assert choices(text, "units") == values


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("32,,64", "has an empty item"),
        ("64:32", "a range runs from 1 or more up"),
        ("0:4", "a range runs from 1 or more up"),
        ("1:8:x1", "a factor of at least 2"),
        ("1:8:0", "a step of at least 1"),
        ("1:W", "a range needs whole numbers"),
        ("1:2:3:4", "a range is start:stop or start:stop:step"),
        ("1:100000", "gives more than 10000 values"),
    ],
)
def test_bad_ranges_name_the_option(text: str, says: str) -> None:
    with pytest.raises(ShapecalcError, match=says) as raised:
        choices(text, "units")
    assert raised.value.option == "units"


def test_every_combination_in_the_order_given() -> None:
    keys, combos = expand({"units": "8,16", "input_dim": "3", "batch": "1,2,4"})
    assert keys == ["units", "batch"]
    assert [(c["units"], c["batch"]) for c in combos] == [
        (u, b) for u in ("8", "16") for b in ("1", "2", "4")
    ]
    keys, combos = expand({"filters": "4", "input_shape": ("64,128", "32", "3")})
    assert keys == ["input_shape"] and [c["input_shape"] for c in combos] == [
        ("64", "32", "3"),
        ("128", "32", "3"),
    ]


def test_too_many_combinations_are_refused() -> None:
    with pytest.raises(ShapecalcError, match=f"more than {MAX_COMBINATIONS:,} combinations"):
        expand({"units": "1:200", "input_dim": "1:200"})


def test_each_row_is_the_single_answer() -> None:
    result = sweep("gru", {"units": "8:32:x2", "input_dim": "3,5", "framework": "torch"})
    assert len(result.rows) == 6
    for row in result.rows:
        single = shapes(
            "gru", framework="torch", hidden_size=row.values["units"], input_size=row.values["input_dim"]
        )
        assert row.result.to_json() == single.to_json()


def test_a_failing_combination_names_itself(run_cli) -> None:
    result = run_cli("lstm", "--units", "0,4", "--input-dim", "3")
    assert result.code == 2
    assert result.err == "Error: Invalid value for '--units': units=0: must be a positive integer, got 0\n"
    conv = run_cli("convlstm", "--filters", "2", "--kernel", "3,5", "--input", "4", "9", "1")
    assert conv.code == 2 and "kernel_size=5: 5 is larger than the input's rows 4" in conv.err


def test_sorted_by_a_count() -> None:
    result = sort_rows(sweep("lstm", {"units": "64,8,32", "input_dim": "4"}), "params")
    assert [row.values["units"] for row in result.rows] == ["8", "32", "64"]
    with pytest.raises(ShapecalcError, match="sort: must be one of params, macs, flops, weight_bytes"):
        sort_rows(result, "speed")


def test_the_command_line_table_json_and_csv_agree(run_cli) -> None:
    args = ("convlstm", "--filters", "4,8", "--kernel", "3", "--input", "16,32", "16", "1", "--sort", "macs")
    table = run_cli(*args)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0] == "ConvLSTM2D: 4 configs"
    assert all(line == line.rstrip() for line in lines)
    data = json.loads(run_cli(*args, "--format", "json").out)
    rows = list(csv.reader(io.StringIO(run_cli(*args, "--format", "csv").out)))
    assert rows[0] == ["filters", "input_shape", "params", "macs", "flops", "weight_bytes", "output_shape"]
    assert len(rows) == 5 == len(data["rows"]) + 1
    for row, answer in zip(rows[1:], data["rows"], strict=True):
        assert int(row[2]) == answer["params"] and row[3] == answer["macs"]
        assert answer["values"]["filters"] == int(row[0])
    macs = [int(r[3].split("*")[-1]) for r in rows[1:]]
    assert macs == sorted(macs)


def test_a_sweep_has_no_picture_and_sort_needs_a_sweep(run_cli) -> None:
    svg = run_cli("lstm", "--units", "4,8", "--input-dim", "3", "--format", "svg")
    assert svg.code == 2 and "a sweep is a table" in svg.err
    single = run_cli("lstm", "--units", "4", "--input-dim", "3", "--sort", "params")
    assert single.code == 2 and "orders the rows of a sweep" in single.err


def test_csv_of_a_layer_and_a_model_is_rfc_4180(run_cli) -> None:
    layer = run_cli("lstm", "--units", "4", "--input-dim", "3", "--format", "csv").out
    assert layer.startswith("tensor,role,shape,per_gate,params,meaning\r\n")
    rows = list(csv.reader(io.StringIO(layer)))
    assert ["kernel", "weight", "(3, 16)", "(3, 4) each", "48", "input weights W"] in rows
    model = run_cli("model", "shapecalc/examples/stacked_lstm.yaml", "--format", "csv").out
    rows = list(csv.reader(io.StringIO(model)))
    assert rows[0][:5] == ["layer", "class", "status", "output_shape", "params"]
    assert (
        sum(int(row[4]) for row in rows[1:])
        == json.loads(run_cli("model", "shapecalc/examples/stacked_lstm.yaml", "--format", "json").out)[
            "params"
        ]
    )
