"""``shapecalc batch``: one JSON config per line in, one JSON result (or error) per line out."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
from fuzzing import ask, batch_process, check_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapecalc.batch import MAX_LINE_BYTES, read_lines, run_batch
from shapecalc.dims import MAX_INT
from shapecalc.options import all_keys

#: Configs and the layer command that must print the same object with --format json.
SAME_AS_COMMAND = [
    ({"layer": "lstm", "units": 32, "input_dim": 20}, ["lstm", "--units", "32", "--input-dim", "20"]),
    (
        {"layer": "convlstm", "filters": 8, "kernel": [3, 3], "input": ["W", "H", 3]},
        ["convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3"],
    ),
    (
        {"layer": "convlstm3d", "filters": 4, "kernel": 3, "input": [16, 32, 32, 1], "strides": [2, 1, 1]},
        [
            "convlstm3d",
            "--filters",
            "4",
            "--kernel",
            "3",
            "3",
            "3",
            "--input",
            "16",
            "32",
            "32",
            "1",
            "--strides",
            "2",
            "1",
            "1",
        ],
    ),
    (
        {"layer": "gru", "units": "U", "input_dim": "D", "reset_after": False, "bidirectional": True},
        ["gru", "--units", "U", "--input-dim", "D", "--no-reset-after", "--bidirectional"],
    ),
    (
        {"layer": "lstm", "framework": "torch", "hidden_size": 32, "input_size": 20, "num_layers": 2},
        ["lstm", "--framework", "torch", "--hidden-size", "32", "--input-size", "20", "--num-layers", "2"],
    ),
    (
        {"layer": "rnn", "units": 8, "input_dim": 3, "batch": 4, "timesteps": "T", "return_sequences": True},
        ["rnn", "--units", "8", "--input-dim", "3", "--batch", "4", "--timesteps", "T", "--return-sequences"],
    ),
]


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def batch_file(tmp_path: Path, lines: list[str | bytes]) -> str:
    path = tmp_path / "configs.jsonl"
    path.write_bytes(b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines))
    return str(path)


def answers(out: str) -> list[dict[str, object]]:
    assert out.endswith("\n") or out == ""
    return [json.loads(line) for line in out.splitlines()]


def test_each_answer_is_the_json_the_layer_command_prints(run_cli, tmp_path: Path) -> None:
    path = batch_file(tmp_path, [json.dumps(config) for config, _ in SAME_AS_COMMAND])
    result = run_cli("batch", path)
    assert (result.code, result.err) == (0, "")
    got = answers(result.out)
    for (config, args), answer in zip(SAME_AS_COMMAND, got, strict=True):
        command = run_cli(*args, "--format", "json")
        assert command.code == 0, command.err
        assert answer == json.loads(command.out), config
    assert all("\n" not in line and ": " not in line[:40] for line in result.out.splitlines())  # compact


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at column 2"),
        ('{"layer": "lstm", "units": 32,}', "not valid JSON: "),
        ("[1, 2]", 'expected a JSON object such as {"layer": "lstm", ...}, got [1, 2]'),
        ('"lstm"', "expected a JSON object such as"),
        ('{"units": 32, "input_dim": 20}', 'layer: is required (e.g. "layer": "lstm")'),
        ('{"layer": 7}', "layer: unknown layer 7; expected one of lstm,"),
        ('{"layer": "transformer"}', "layer: unknown layer 'transformer'; expected one of lstm, gru"),
        ('{"layer": "lstm", "units": 32, "input_dim": 20, "colour": 1}', "colour: is not an option of lstm"),
        ('{"layer": "lstm", "units": 32, "units": 64, "input_dim": 20}', "'units' is given twice"),
        ('{"layer": "lstm", "units": -3, "input_dim": 20}', "units: must be a positive integer, got -3"),
        (
            '{"layer": "lstm", "units": 2.5, "input_dim": 20}',
            "units: must be a positive integer or a name, got 2.5",
        ),
        (
            '{"layer": "lstm", "units": NaN, "input_dim": 20}',
            "units: must be a positive integer or a name, got nan",
        ),
        (
            '{"layer": "lstm", "units": true, "input_dim": 20}',
            "units: must be a positive integer or a name, got True",
        ),
        (
            '{"layer": "lstm", "units": "W//0", "input_dim": 20}',
            "units: division by zero in expression 'W//0'",
        ),
        (
            '{"layer": "lstm", "units": [3], "input_dim": 20}',
            "units: must be a positive integer or a name, got [3]",
        ),
        (
            f'{{"layer": "lstm", "units": {10**100}, "input_dim": 20}}',
            f"units: must be at most {MAX_INT}, got a 101-digit integer",
        ),
        (
            f'{{"layer": "lstm", "units": {2**62}, "input_dim": 20}}',
            "kernel: 18446744073709551616 is too large",
        ),
        (
            '{"layer": "lstm", "units": ' + "9" * 5000 + ', "input_dim": 20}',
            "not valid JSON: a number is too long",
        ),
        (
            '{"layer": "lstm", "units": ' + "[" * 30_000 + "]" * 30_000 + "}",
            "not valid JSON: nested too deeply",
        ),
        (
            '{"layer": "lstm", "framework": "torch", "hidden_size": 4, "input_size": 2,'
            ' "num_layers": 1000000000}',
            "num_layers: must be at most 1000, got 1000000000",
        ),
        (
            '{"layer": "convlstm", "framework": "torch", "filters": 8}',
            "framework: PyTorch has no ConvLSTM layer",
        ),
        (
            '{"layer": "lstm", "units": "' + "W+" * 500_000 + 'W", "input_dim": 20}',
            "line is longer than 65536 bytes",
        ),
    ],
    ids=lambda value: value[:40],
)
def test_a_bad_line_answers_with_its_error_and_the_rest_go_on(
    run_cli, tmp_path: Path, line: str, error: str
) -> None:
    good = '{"layer": "rnn", "units": 4, "input_dim": 3}'
    result = run_cli("batch", batch_file(tmp_path, [good, line, good]))
    first, failed, last = answers(result.out)
    assert first == last and first["layer"] == "SimpleRNN"
    assert failed["line"] == 2 and set(failed) == {"line", "error"}
    assert str(failed["error"]).startswith(error), failed
    assert len(str(failed["error"])) < 300
    assert result.code == 1
    assert result.err == "Error: 1 line(s) failed, the first is line 2\n"


def test_blank_lines_are_skipped_and_lines_keep_their_numbers(run_cli, tmp_path: Path) -> None:
    good = '{"layer": "lstm", "units": 2, "input_dim": 3}'
    lines: list[str | bytes] = ["\ufeff" + good, "", "   ", good + "\r", b"\xff\xfe{}", "", "oops", good]
    result = run_cli("batch", batch_file(tmp_path, lines))
    got = answers(result.out)
    assert [a.get("line") for a in got] == [None, None, 5, 7, None]
    assert got[2]["error"] == "not UTF-8 text (bad byte at position 1)"
    assert result.err == "Error: 2 line(s) failed, the first is line 5\n" and result.code == 1


def test_empty_input_is_success(run_cli, tmp_path: Path) -> None:
    result = run_cli("batch", batch_file(tmp_path, []))
    assert (result.code, result.out, result.err) == (0, "", "")


def test_reads_standard_input(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'{"layer": "gru", "units": 3, "input_dim": 2}\n{"layer": "gru", "units": 0, "input_dim": 2}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    result = run_cli("batch")
    got = answers(result.out)
    assert got[0]["params"] == 3 * (3 * 2 + 3 * 3 + 2 * 3)
    assert got[1] == {"line": 2, "error": "units: must be a positive integer, got 0"}
    assert result.code == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("missing.jsonl", "Error: cannot read 'missing.jsonl': No such file or directory\n"),
        (".", "Error: cannot read '.': Is a directory\n"),
        (
            "x" * 5000,
            f"Error: cannot read '{'x' * 29}...{'x' * 29}' (5000 characters)",
        ),
    ],
)
def test_an_unreadable_file_is_a_runtime_error(run_cli, path: str, message: str) -> None:
    result = run_cli("batch", path)
    assert result.code == 1 and result.err.startswith(message) and result.err.count("\n") == 1


def test_read_lines_never_holds_more_than_one_bounded_line() -> None:
    endless = io.BytesIO(b"x" * (3 * MAX_LINE_BYTES) + b"\n" + b"{}\n")
    assert [(n, raw) for n, raw in read_lines(endless)] == [(1, None), (2, b"{}\n")]


def configs(count: int) -> list[str]:
    """The benchmark's mix (every layer kind, numeric and symbolic, both frameworks), as lines."""
    spec = importlib.util.spec_from_file_location("bench_batch", BENCHMARKS / "bench_batch.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    lines: list[str] = bench.configs(count).decode().splitlines()
    return lines


def test_a_thousand_mixed_configs_are_all_answered() -> None:
    lines = list(read_lines(io.BytesIO("\n".join(configs(1000)).encode())))
    out: list[str] = []
    assert run_batch(lines, out.append) == [] and len(out) == 1000
    assert {json.loads(line)["layer"] for line in out} >= {"LSTM", "nn.LSTM", "ConvLSTM3D"}


@pytest.mark.slow
def test_a_thousand_configs_take_well_under_a_second_of_engine_time() -> None:
    lines = list(read_lines(io.BytesIO("\n".join(configs(1000)).encode())))
    out: list[str] = []
    started = time.process_time()
    failed = run_batch(lines, out.append)
    spent = time.process_time() - started
    assert failed == [] and len(out) == 1000
    assert spent < 3.0, f"1,000 configs took {spent:.2f} s of CPU"  # about 0.3 s on the reference machine


def test_a_real_process_answers_each_line_as_it_comes() -> None:
    """Through a pipe, one line at a time: a script can keep the process open and converse."""
    process = batch_process()
    for line in configs(3):
        assert ask(process, line)["schema_version"] == 1
    assert process.stdin is not None and process.stderr is not None
    process.stdin.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
#: Every key some layer takes (the option table's, aliases included), so random lines hit real options.
option_names = st.sampled_from(all_keys())
layer_lines = st.fixed_dictionaries(
    {"layer": st.sampled_from(["lstm", "gru", "rnn", "convlstm1d", "convlstm", "convlstm3d"])},
    optional={"units": st.integers(-3, 40) | st.just("U")},
).flatmap(
    lambda base: st.dictionaries(option_names, json_values, max_size=5).map(lambda extra: {**base, **extra})
)
lines_strategy = st.lists(
    st.one_of(
        layer_lines.map(json.dumps),
        json_values.map(json.dumps),
        st.binary(max_size=40),
        st.text(max_size=40),
    ),
    max_size=8,
)


@pytest.mark.fuzz
@settings(
    max_examples=int(os.environ.get("SHAPECALC_FUZZ_EXAMPLES", "400")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=lines_strategy)
def test_any_lines_get_one_answer_each(
    run_cli, tmp_path_factory: pytest.TempPathFactory, lines: list
) -> None:
    lines = [
        line.replace(b"\n", b" ") if isinstance(line, bytes) else line.replace("\n", " ") for line in lines
    ]
    raw = [line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line for line in lines]
    numbered = [n for n, line in enumerate(raw, 1) if line.strip()]
    path = batch_file(tmp_path_factory.mktemp("fuzz"), list(raw))
    result = run_cli("batch", path)
    check_run(["batch", path], result.code, result.out, result.err, output_expected=bool(numbered))
    got = answers(result.out)
    assert len(got) == len(numbered)
    errors = [a["line"] for a in got if "error" in a]
    assert errors == [n for n, a in zip(numbered, got, strict=True) if "error" in a]
    assert all("schema_version" in a for a in got if "error" not in a)
    assert result.code == (1 if errors else 0)


def test_the_shell_completes_file_names(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_SHAPECALC_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "shapecalc batch con")
    monkeypatch.setenv("COMP_CWORD", "2")
    result = run_cli()
    assert (result.code, result.out.splitlines()) == (0, ["file,con"])


def test_repeated_configs_are_answered_as_if_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory of recent answers: a repeat (however spelled) answers what a fresh run answers."""
    import shapecalc.batch as batch

    monkeypatch.setattr(batch, "MEMO_ENTRIES", 3)  # evictions happen within these lines
    spellings = [
        {"layer": "lstm", "units": 32, "input_dim": 20},
        {"layer": "lstm", "units": "32", "input_dim": 20, "batch": "batch"},
        {"layer": "lstm", "units": 32, "input_dim": 20, "dtype": "float16"},
        {"layer": "lstm", "units": 32, "input_dim": 20, "explain": True},
        {"layer": "gru", "framework": "torch", "hidden_size": "H", "input_size": 8},
        {"layer": "convlstm", "filters": 8, "kernel": 3, "input": ["W", "H", 3]},
        {"layer": "convlstm", "filters": 8, "kernel": [3, 3], "input": ["W", "H", 3]},
        {"layer": "lstm", "units": -1, "input_dim": 20},
    ]
    lines = [json.dumps(spellings[i % len(spellings)]).encode() for i in range(40)]
    out: list[str] = []
    failed = run_batch(enumerate(lines, 1), out.append)
    fresh: list[str] = []
    for number, line in enumerate(lines, 1):
        run_batch([(number, line)], fresh.append)
    assert out == fresh
    assert len(failed) == 5 and json.loads(out[7])["error"].startswith("units:")
    assert json.loads(out[0]) == json.loads(out[1]) != json.loads(out[2])
