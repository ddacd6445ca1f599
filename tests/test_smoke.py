"""The two everyday commands (an LSTM and a ConvLSTM2D), end to end."""

from __future__ import annotations

import json


def test_notes_lstm_json(run_cli):
    result = run_cli("lstm", "--units", "32", "--input-dim", "20", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    shapes = {t["name"]: t["shape"] for t in data["tensors"]}
    assert shapes["kernel"] == [20, 128]
    assert shapes["recurrent_kernel"] == [32, 128]
    assert shapes["bias"] == [128]
    assert shapes["kernel_i"] == [20, 32]
    assert shapes["gate_f"] == ["batch", 32]
    assert data["params"] == 6784


def test_notes_convlstm_symbolic(run_cli):
    result = run_cli(
        "convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3", "--format", "json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    shapes = {t["name"]: t["shape"] for t in data["tensors"]}
    assert shapes["gate_i"] == ["batch", "W - 2", "H - 2", 8]
    assert shapes["kernel_i"] == [3, 3, 3, 8]
    assert shapes["recurrent_kernel_o"] == [3, 3, 8, 8]
    assert data["constraints"] == ["W >= 3", "H >= 3"]
