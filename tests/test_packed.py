"""PyTorch unbatched input and packed sequences, checked without the frameworks.

``PACKED`` and ``UNBATCHED`` were read off PyTorch 2.13 (``pack_padded_sequence`` and the
real modules, printed shape by shape); ``tests/oracle/test_oracle_torch_packed.py`` rebuilds
every entry, so the tables cannot drift from the truth. The rest checks the refusals (one
line, exit 2, naming the option), the bounds on huge lengths, the JSON and table output, and
properties of ``batch_sizes`` and of the costs over any lengths.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc import ShapecalcError, shapes
from shapecalc.packing import MAX_RUNS, expand, parse_lengths


@dataclass(frozen=True)
class Packed:
    kind: str
    options: dict[str, Any]
    batch_sizes: list[int]
    input_data: tuple[int, ...]
    output_data: tuple[int, ...]
    finals: list[tuple[int, ...]]
    padded_output: tuple[int, ...]
    sorted_indices: tuple[int, ...] | None = None


PACKED = [
    Packed("lstm", {"hidden_size": 32, "input_size": 20, "lengths": [7, 3, 1]},
           [3, 2, 2, 1, 1, 1, 1], (11, 20), (11, 32), [(1, 3, 32), (1, 3, 32)], (7, 3, 32)),
    Packed("gru", {"hidden_size": 5, "input_size": 4, "num_layers": 2, "bidirectional": True,
                   "batch_first": True, "lengths": "5x2,2,1"},
           [4, 3, 2, 2, 2], (13, 4), (13, 10), [(4, 4, 5)], (4, 5, 10)),
    Packed("lstm", {"hidden_size": 6, "input_size": 3, "proj_size": 2, "num_layers": 3, "lengths": "2,6,4",
                    "enforce_sorted": False},
           [3, 3, 2, 2, 1, 1], (12, 3), (12, 2), [(3, 3, 2), (3, 3, 6)], (6, 3, 2), (3,)),
    Packed("rnn", {"hidden_size": 7, "input_size": 2, "bidirectional": True, "lengths": "4x16,2x16"},
           [32, 32, 16, 16], (96, 2), (96, 14), [(2, 32, 7)], (4, 32, 14)),
]  # fmt: skip

UNBATCHED = [
    # (kind, options, steps, output, finals): read off nn.LSTM/GRU/RNN given a 2-D input
    ("lstm", {"hidden_size": 32, "input_size": 20, "proj_size": 8, "num_layers": 2, "bidirectional": True,
              "batch_first": True}, 9, (9, 16), [(4, 8), (4, 32)]),
    ("gru", {"hidden_size": 4, "input_size": 3, "num_layers": 3}, 5, (5, 4), [(3, 4)]),
    ("rnn", {"hidden_size": 4, "input_size": 3}, 1, (1, 4), [(1, 4)]),
]  # fmt: skip


def _torch(kind: str, **options: Any):
    return shapes(kind, framework="torch", **options)


@pytest.mark.parametrize("known", PACKED, ids=[f"{k.kind}-{i}" for i, k in enumerate(PACKED)])
def test_known_packed_calls(known: Packed) -> None:
    result = _torch(known.kind, **known.options)
    packing = result.packing
    assert packing is not None
    assert expand(packing.batch_sizes) == known.batch_sizes
    assert (packing.input.data, packing.output.data) == (known.input_data, known.output_data)
    assert packing.input.batch_sizes == packing.output.batch_sizes == (len(known.batch_sizes),)
    assert packing.input.sorted_indices == packing.output.unsorted_indices == known.sorted_indices
    assert result.tensor("output").shape == known.output_data
    assert [result.tensor(name).shape for name in result.outputs[1:]] == known.finals
    assert [t.shape for t in result.initial_states] == known.finals
    assert packing.padded_output == known.padded_output


@pytest.mark.parametrize(("kind", "options", "steps", "output", "finals"), UNBATCHED)
def test_known_unbatched_calls(kind: str, options: dict[str, Any], steps: int, output, finals) -> None:
    result = _torch(kind, unbatched=True, timesteps=steps, **options)
    assert result.tensor("input").shape == (steps, options["input_size"])
    assert result.tensor("output").shape == output
    assert [result.tensor(name).shape for name in result.outputs[1:]] == finals
    assert [t.shape for t in result.initial_states] == finals
    assert result.tensor("hidden_state").shape == finals[0][1:]
    assert result.packing is None


TORCH = ("--framework", "torch", "--hidden-size", "8", "--input-size", "4")

#: (arguments, the option the line names, what it says)
REFUSALS = [
    (("--lengths", "3,7"), "--lengths", "must not increase while enforce_sorted is true"),
    (("--lengths", "7,0,1"), "--lengths", "(LENGTH or LENGTHxCOUNT, comma-separated), got 0"),
    (("--lengths", "7,-3"), "--lengths", "got -3"),
    (("--lengths", "2.5"), "--lengths", "got '2.5'"),
    (("--lengths", "7x0"), "--lengths", "got '7x0'"),
    (("--lengths", "7,,1"), "--lengths", "got ''"),
    (("--lengths", "N"), "--lengths", "got 'N'"),
    (("--lengths", "7,3", "--batch", "3"), "--batch", "must equal the number of lengths (2), got 3"),
    (("--lengths", "7,3", "--batch", "N"), "--batch", "must equal the number of lengths (2), got 'N'"),
    (("--lengths", "7,3", "--timesteps", "5"), "--timesteps", "at least the longest of lengths (7), got 5"),
    (("--lengths", "7,3", "--timesteps", "T"), "--timesteps", "got 'T'"),
    (("--lengths", "7,3", "--unbatched"), "--lengths", "give unbatched or lengths, not both"),
    (("--unbatched", "--batch", "4"), "--batch", "an unbatched input (L, H_in) has no batch axis, got 4"),
    (("--no-enforce-sorted",), "--no-enforce-sorted", "applies only with lengths"),
    (("--lengths", ",".join(["1"] * (MAX_RUNS + 1))), "--lengths", f"must list 1 to {MAX_RUNS} lengths"),
    (("--lengths", "9" * 19), "--lengths", "must be positive integers"),
    (("--lengths", "999999999999999999x999999999999999999"), "--lengths", "must make at most"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "option", "says"), REFUSALS, ids=[" ".join(a)[:40] for a, _, _ in REFUSALS])
def test_refusals_are_one_line_naming_the_option(run_cli, args, option: str, says: str) -> None:
    result = run_cli("lstm", *TORCH, *args)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"Error: Invalid value for '{option}': "), result.err
    assert says in result.err and result.err.count("\n") == 1, result.err
    assert len(result.err) < 400


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("lstm", "--units", "8", "--input-dim", "4", "--lengths", "3"), "Keras skips padded steps"),
        (("gru", "--units", "8", "--input-dim", "4", "--unbatched"), "Keras layers always take a batch axis"),
        (("rnn", "--framework", "onnx", "--hidden-size", "8", "--input-size", "4", "--lengths", "3"),
         "optional input sequence_lens"),
        (("lstm", "--framework", "onnx", "--hidden-size", "8", "--input-size", "4", "--unbatched"),
         "ONNX X always has a batch_size axis"),
    ],
)  # fmt: skip
def test_keras_and_onnx_say_why_they_have_no_such_option(run_cli, args, says: str) -> None:
    result = run_cli(*args)
    assert result.code == 2 and says in result.err and "it applies to framework torch" in result.err
    assert result.err.count("\n") == 1


def test_the_convlstm_commands_have_neither_option(run_cli) -> None:
    help_text = run_cli("convlstm", "--help").out
    assert "--lengths" not in help_text and "--unbatched" not in help_text
    assert "--lengths LENGTHS" in run_cli("lstm", "--help").out


def test_options_absent_leave_the_answer_as_it_was() -> None:
    plain = _torch("lstm", hidden_size=8, input_size=4).to_json()
    assert not {"packed", "initial_states"} & set(plain)
    assert not {"unbatched", "lengths", "enforce_sorted"} & set(plain["config"])
    assert _torch("lstm", hidden_size=8, input_size=4, unbatched=False).to_json() == plain


def test_json_holds_the_packed_sequence_and_the_initial_states(run_cli) -> None:
    result = run_cli("lstm", *TORCH, "--lengths", "3,5,1", "--no-enforce-sorted", "--batch-first",
                     "--timesteps", "6", "--format", "json")  # fmt: skip
    assert result.code == 0, result.err
    data = json.loads(result.out)
    config = data["config"]
    assert (config["lengths"], config["batch"], config["timesteps"], config["enforce_sorted"]) == (
        "3,5,1", 3, 6, False)  # fmt: skip
    assert data["packed"] == {
        "lengths": "3,5,1",
        "sequences": 3,
        "total": 9,
        "steps": 5,
        "enforce_sorted": False,
        "batch_sizes": [[3, 1], [2, 2], [1, 2]],
        "padded_input": [3, 6, 4],
        "input": {"data": [9, 4], "batch_sizes": [5], "sorted_indices": [3], "unsorted_indices": [3]},
        "output": {"data": [9, 8], "batch_sizes": [5], "sorted_indices": [3], "unsorted_indices": [3]},
        "padded_output": [3, 5, 8],
    }
    initial = [(t["name"], t["shape"]) for t in data["initial_states"]]
    assert initial == [("h_0", [1, 3, 8]), ("c_0", [1, 3, 8])]
    tensors = {t["name"]: t for t in data["tensors"]}
    assert tensors["output"]["shape"] == [9, 8] and tensors["input"]["shape"] == [3, 6, 4]
    assert "each sequence's own last step" in tensors["h_n"]["description"]


@pytest.mark.parametrize("options", [{"lengths": "7,3,1"}, {"lengths": [4, 9], "enforce_sorted": False},
                                     {"unbatched": True, "timesteps": 5}, {"unbatched": True}])  # fmt: skip
def test_an_answers_config_is_accepted_back(options: dict[str, Any]) -> None:
    first = _torch("gru", hidden_size=4, input_size=3, **options)
    assert _torch("gru", **first.config).to_json() == first.to_json()


def test_the_table_shows_the_packing_and_the_initial_states(run_cli) -> None:
    result = run_cli("lstm", *TORCH, "--lengths", "7,3,1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "nn.LSTM (torch): hidden_size=8, input_size=4, lengths=7,3,1"
    assert "batch_sizes: 3, 2, 2, 1, 1, 1, 1 (7 steps)" in lines
    assert "PackedSequence in: data (11, 4), batch_sizes (7,)" in lines
    assert "PackedSequence out: data (11, 8); pad_packed_sequence(output): (7, 3, 8)" in lines
    assert "initial states: h_0 (1, 3, 8), c_0 (1, 3, 8)" in lines
    markdown = run_cli("lstm", *TORCH, "--unbatched", "--format", "markdown").out
    assert "- initial states: h_0 (1, 8), c_0 (1, 8)" in markdown.splitlines()


def test_huge_lengths_stay_bounded_and_fast(run_cli) -> None:
    """A million steps or a billion sequences: run-length encoded, never one item per step."""
    start = time.perf_counter()
    result = run_cli("lstm", *TORCH, "--lengths", "1000000x16,50x1000000000", "--format", "json")
    assert result.code == 0, result.err
    assert time.perf_counter() - start < 5
    data = json.loads(result.out)
    assert data["packed"]["batch_sizes"] == [[1000000016, 50], [16, 999950]]
    assert data["packed"]["input"]["data"] == [16 * 1000000 + 50 * 1000000000, 4]
    assert len(result.out) < 20_000
    table = run_cli("lstm", *TORCH, "--lengths", "1000000x16,50x1000000000").out
    assert "batch_sizes: 1,000,000,016 ×50, 16 ×999,950 (1,000,000 steps)" in table.splitlines()


def test_unbatched_costs_count_one_sequence() -> None:
    one = _torch("lstm", hidden_size=8, input_size=4, unbatched=True, timesteps=5).costs
    batch = _torch("lstm", hidden_size=8, input_size=4, batch=1, timesteps=5).costs
    assert (one.macs, one.flops, one.step_bytes, one.sequence_bytes) == (
        batch.macs, batch.flops, batch.step_bytes, batch.sequence_bytes)  # fmt: skip


def test_packed_costs_count_the_real_steps_not_the_rectangle() -> None:
    packed = _torch("lstm", hidden_size=8, input_size=4, lengths="7,3,1", timesteps=9).costs
    padded = _torch("lstm", hidden_size=8, input_size=4, batch=3, timesteps=9).costs
    step = _torch("lstm", hidden_size=8, input_size=4, batch=1, timesteps=1).costs
    assert packed.macs == 11 * step.macs and padded.macs == 27 * step.macs
    assert packed.flops == 11 * step.flops and packed.sequence_bytes == 11 * step.sequence_bytes
    assert packed.step_bytes == 3 * step.step_bytes  # the largest step holds every sequence


LENGTH_LISTS = st.lists(st.integers(1, 40), min_size=1, max_size=30)


@given(LENGTH_LISTS)
@settings(max_examples=200, deadline=None)
def test_batch_sizes_add_up_to_the_lengths(lengths: list[int]) -> None:
    """sum(batch_sizes) == sum(lengths); one entry per step of the longest; entry t counts the
    sequences longer than t."""
    runs = parse_lengths(lengths, "lengths").batch_sizes()
    sizes = expand(runs)
    assert sum(sizes) == sum(lengths) and len(sizes) == max(lengths)
    assert sizes == [sum(1 for length in lengths if length > t) for t in range(max(lengths))]
    assert all(size > 0 for size, steps in runs) and all(steps > 0 for _, steps in runs)


@given(LENGTH_LISTS, st.sampled_from(["lstm", "gru", "rnn"]), st.integers(1, 3), st.booleans())
@settings(max_examples=60, deadline=None)
def test_packed_costs_are_the_sum_of_each_sequence_alone(lengths, kind, layers, bidirectional) -> None:
    """Packing runs every sequence for its own length: its MACs and FLOPs are those of each
    sequence run unbatched, added up."""
    sizes = {"hidden_size": 5, "input_size": 3, "num_layers": layers, "bidirectional": bidirectional}
    packed = _torch(kind, lengths=lengths, enforce_sorted=False, **sizes).costs
    alone = [_torch(kind, unbatched=True, timesteps=length, **sizes).costs for length in lengths]
    assert packed.macs == sum(c.macs for c in alone) and packed.flops == sum(c.flops for c in alone)
    assert packed.sequence_bytes == sum(c.sequence_bytes for c in alone)


@given(LENGTH_LISTS.map(lambda lengths: ",".join(map(str, lengths))))
@settings(max_examples=100, deadline=None)
def test_lengths_text_reads_back_as_itself(text: str) -> None:
    assert str(parse_lengths(text, "lengths")) == text


def test_runs_mean_their_sequences_written_out() -> None:
    runs = _torch("rnn", hidden_size=2, input_size=2, lengths="5x3,2x2").to_json()["packed"]
    listed = _torch("rnn", hidden_size=2, input_size=2, lengths=[5, 5, 5, 2, 2]).to_json()["packed"]
    assert {**runs, "lengths": None} == {**listed, "lengths": None}


def test_lengths_in_a_sweep_are_one_value(run_cli) -> None:
    result = run_cli("gru", "--framework", "torch", "--hidden-size", "4,8", "--input-size", "3",
                     "--lengths", "7,3,1", "--format", "csv")  # fmt: skip
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 3


def test_batch_mode_takes_lengths_as_text_or_a_list() -> None:
    import io

    from shapecalc.batch import read_lines, run_batch

    lines = [
        {"layer": "lstm", "framework": "torch", "hidden_size": 4, "input_size": 3, "lengths": "3,2"},
        {"layer": "lstm", "framework": "torch", "hidden_size": 4, "input_size": 3, "lengths": [3, 2]},
        {"layer": "lstm", "framework": "torch", "hidden_size": 4, "input_size": 3, "lengths": [3, 0]},
    ]
    text = "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
    out: list[str] = []
    run_batch(read_lines(io.BytesIO(text)), out.append)
    first, second, third = (json.loads(line) for line in out)
    assert first == second and first["packed"]["total"] == 5
    assert third["error"].startswith("lengths: must be positive integers")


def test_api_refuses_like_the_command_line() -> None:
    with pytest.raises(ShapecalcError, match="lengths: must not increase while enforce_sorted is true"):
        _torch("lstm", hidden_size=4, input_size=3, lengths=[1, 2])
    with pytest.raises(ShapecalcError, match="lengths: must be positive integers"):
        _torch("lstm", hidden_size=4, input_size=3, lengths=[True])
