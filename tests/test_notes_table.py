"""The usual LSTM and ConvLSTM2D shape summary, row by row, from the two everyday commands.

The notes (``lstm-convlstm-shapes-notes.txt``) describe one sample: gates and
states are column vectors ``(units, 1)``, and the per-gate LSTM kernel is
``(units, input_dim)``. shapecalc shows what Keras 3 holds: gates and states
carry the batch axis, ``(batch, units)``, and Keras stores each gate's kernel
as ``(input_dim, units)`` -- the notes' matrix transposed. Every row below is
checked in that light, with the frame both numeric (128 x 128) and symbolic
(W x H), using the notes' own formula ``width - conv_kernel_x + 1``.
"""

from __future__ import annotations

import json

import pytest

from shapecalc import parse_dim

UNITS, INPUT_DIM = 32, 20
FILTERS, KX, KY, CHANNEL = 8, 3, 3, 3
GATES = "ifco"


def _json(run_cli, *args: str) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def _shapes(data: dict) -> dict[str, list]:
    return {t["name"]: t["shape"] for t in data["tensors"]}


def _dim(value: int | str) -> int | str:
    """A notes formula such as ``W - 3 + 1``, folded and printed as JSON prints it."""
    folded = parse_dim(str(value))
    return folded if isinstance(folded, int) else str(folded)


def test_lstm_column(run_cli) -> None:
    data = _json(run_cli, "lstm", "--units", str(UNITS), "--input-dim", str(INPUT_DIM))
    shapes = _shapes(data)
    # model parameter: units
    assert data["config"]["units"] == UNITS
    # input: (batch, timestep, input_dim)
    assert shapes["input"] == ["batch", "timestep", INPUT_DIM]
    # gates: (units, 1) per sample -> (batch, units)
    for gate in GATES:
        assert shapes[f"gate_{gate}"] == ["batch", UNITS]
    # kernel: (units, input_dim) per gate = Keras' kernel_<gate> (input_dim, units), transposed
    for gate in GATES:
        assert shapes[f"kernel_{gate}"][::-1] == [UNITS, INPUT_DIM]
    assert shapes["kernel"] == [INPUT_DIM, 4 * UNITS]
    # recurrent_kernel: (units, units) per gate
    for gate in GATES:
        assert shapes[f"recurrent_kernel_{gate}"] == [UNITS, UNITS]
    assert shapes["recurrent_kernel"] == [UNITS, 4 * UNITS]
    # cell_state and hidden_state/output: (units, 1) per sample -> (batch, units)
    for name in ("cell_state", "hidden_state", "output"):
        assert shapes[name] == ["batch", UNITS]
    assert data["params"] == 4 * (INPUT_DIM * UNITS + UNITS * UNITS + UNITS)


@pytest.mark.parametrize(("width", "height"), [(128, 128), ("W", "H"), (64, "H")])
def test_convlstm2d_column(run_cli, width: int | str, height: int | str) -> None:
    args = ["convlstm", "--filters", str(FILTERS), "--kernel", str(KX), str(KY)]
    data = _json(run_cli, *args, "--input", str(width), str(height), str(CHANNEL))
    shapes = _shapes(data)
    # model parameter: filters and the 2D convolution kernel (conv_kernel_x, conv_kernel_y)
    assert data["config"]["filters"] == FILTERS
    assert data["config"]["kernel_size"] == [KX, KY]
    # input: (batch, timestep, width, height, channel)
    assert shapes["input"] == ["batch", "timestep", width, height, CHANNEL]
    # gates, cell_state, hidden_state/output:
    # (width - conv_kernel_x + 1, height - conv_kernel_y + 1, filters), with the batch axis in front
    rows, cols = _dim(f"{width} - {KX} + 1"), _dim(f"{height} - {KY} + 1")
    for name in [f"gate_{g}" for g in GATES] + ["cell_state", "hidden_state", "output"]:
        assert shapes[name] == ["batch", rows, cols, FILTERS]
    # kernel: (conv_kernel_x, conv_kernel_y, channel, filters) per gate
    for gate in GATES:
        assert shapes[f"kernel_{gate}"] == [KX, KY, CHANNEL, FILTERS]
    assert shapes["kernel"] == [KX, KY, CHANNEL, 4 * FILTERS]
    # recurrent_kernel: (conv_kernel_x, conv_kernel_y, filters, filters) per gate
    for gate in GATES:
        assert shapes[f"recurrent_kernel_{gate}"] == [KX, KY, FILTERS, FILTERS]
    assert shapes["recurrent_kernel"] == [KX, KY, FILTERS, 4 * FILTERS]


def test_symbolic_notes_example_prints_w_minus_2(run_cli) -> None:
    result = run_cli("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3")
    assert result.code == 0, result.err
    assert "(batch, W - 2, H - 2, 8)" in result.out
    assert "valid when: W >= 3" in result.out and "valid when: H >= 3" in result.out


@pytest.mark.parametrize(
    ("args", "per_gate_cells"),
    [
        (("lstm", "--units", "32", "--input-dim", "20"), ["(20, 32) each", "(32, 32) each"]),
        (
            ("convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "128", "128", "3"),
            ["(3, 3, 3, 8) each", "(3, 3, 8, 8) each"],
        ),
    ],
)
def test_the_table_shows_the_notes_per_gate_kernels(run_cli, args, per_gate_cells) -> None:
    """A reader of the notes finds each gate's kernel beside the fused tensor as stored."""
    out = run_cli(*args).out
    kernel_line = next(line for line in out.splitlines() if line.startswith("  kernel "))
    recurrent_line = next(line for line in out.splitlines() if line.startswith("  recurrent_kernel "))
    assert per_gate_cells[0] in kernel_line
    assert per_gate_cells[1] in recurrent_line
