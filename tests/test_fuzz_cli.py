"""Fuzzing the layer commands: random and adversarial argv, in-process and as real processes.

Every run must end with exit 0, 1 or 2, print one ``Error: ...`` line on
failure, valid JSON when ``--format json`` succeeds, and never a traceback
or a hang (see ``tests/fuzzing.py``). ``SHAPECALC_FUZZ_EXAMPLES`` raises the
number of random runs for a longer local hunt.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from fuzzing import (
    DIVISION_BY_ZERO,
    EMPTY,
    FLOATS,
    HOSTILE,
    HUGE_NUMBERS,
    UNICODE_DIGITS,
    ask,
    batch_process,
    check_run,
    layer_argv,
    nested,
    time_limit,
)
from hypothesis import HealthCheck, given, settings

from shapecalc.dims import MAX_EXPRESSION_LENGTH, MAX_INT, MAX_NESTING

pytestmark = pytest.mark.fuzz
Done = subprocess.CompletedProcess[str]

EXAMPLES = int(os.environ.get("SHAPECALC_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
#: Longest a single in-process run may take before it counts as a hang.
RUN_SECONDS = 20


def run_in_process(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    from shapecalc.main import main

    capsys.readouterr()
    with time_limit(RUN_SECONDS):
        code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("SHAPECALC_DEBUG", raising=False)


@FUZZ
@given(args=layer_argv())
def test_random_layer_commands_keep_the_contract(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run_in_process(capsys, args)
    check_run(args, code, out, err)
    assert code != 1, f"exit 1 (a runtime failure) from a command that reads no file: {args!r}\n{err}"


# --------------------------------------------------------------------------- known adversarial values
ADVERSARIAL = sorted(
    {*UNICODE_DIGITS, *HUGE_NUMBERS, *EMPTY, *FLOATS, *DIVISION_BY_ZERO, *HOSTILE, "W\x00", "\x00", "3\x00"}
)
#: Adversarial values that are, in fact, fine sizes.
ACCEPTED = {"0" * 30 + "1", "1" * 19, str(2**62), str(2**63 - 1), "4611686018427387904*W", "nan", "inf"}


@pytest.mark.parametrize("value", ADVERSARIAL, ids=lambda value: repr(value)[:30])
def test_adversarial_units_are_refused_naming_the_option(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    args = ["lstm", "--units", value, "--input-dim", "20", "--format", "json"]
    code, out, err = run_in_process(capsys, args)
    check_run(args, code, out, err)
    if value in ACCEPTED:
        assert code == 0 or "is too large" in err, err  # 2**62 units fit; 4 gates of them do not
        return
    assert code == 2, err
    if "\x00" in value:
        assert err == "Error: arguments cannot contain NUL bytes\n"
    else:
        assert "'--units'" in err, err
        stripped = value.strip()
        echoed = repr(value)[:25] in err or repr(stripped)[:25] in err or (stripped and stripped[:25] in err)
        reasons = ("empty expression", "is too large", "too long")
        assert echoed or any(reason in err for reason in reasons), err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # A 1 MB expression is refused before it is read, the message stays short.
        (["--units", "W+" * 500_000 + "W"], f"at most {MAX_EXPRESSION_LENGTH})"),
        (["--units", nested(MAX_NESTING + 1)], f"nesting deeper than {MAX_NESTING}"),
        ([f"--units={'-' * (MAX_NESTING + 1)}W"], f"nesting deeper than {MAX_NESTING}"),
        (["--units", "a" * 65], "longer than 64 characters"),
        (["--units", str(10**100)], "is too large"),
        (["--units", "9" * 5000], f"at most {MAX_EXPRESSION_LENGTH})"),
        (["--units", "9" * 19], f"is too large (sizes stop at {MAX_INT})"),
        # Sizes that fit, whose products do not: int64 holds on every tensor.
        (["--units", str(2**62)], f"is too large (sizes stop at {MAX_INT})"),
        (["--units", "3037000500", "--input-dim", "3037000500"], "is too large"),
        (["--units", "W*4611686018427387904"], "'W*18446744073709551616' is too large"),
        (["--units", "3037000500*3037000500"], "is too large"),
        # A billion stacked PyTorch layers would take forever: refused at once.
        (["--framework", "torch", "--units", "3", "--num-layers", "1000000000"], "must be at most 1000"),
    ],
    ids=lambda value: " ".join(value)[:40] if isinstance(value, list) else value[:40],
)
def test_resource_bounds(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    argv = ["lstm", *args, "--format", "json"]
    if "--input-dim" not in args:
        argv += ["--input-dim", "20"]
    with time_limit(60):  # a hang guard, not a speed test: refused at once, or Hang
        code, out, err = run_in_process(capsys, argv)
    check_run(argv, code, out, err)
    assert code == 2 and message in err, err
    assert len(err) < 400, err


def test_a_bad_columns_variable_is_ignored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for columns in ("abc", "", "-5", "99999999999999999999", "٣٣"):
        monkeypatch.setenv("COLUMNS", columns)
        code, out, err = run_in_process(capsys, ["lstm", "--units", "3", "--input-dim", "2"])
        assert (code, err) == (0, ""), (columns, err)
        assert max(len(line) for line in out.splitlines()) <= 100


# --------------------------------------------------------------------------- real processes
def shapecalc_process(
    *args: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", **(env_extra or {})}
    env.pop("SHAPECALC_DEBUG", None)
    # Click treats an ASCII stdout as misconfigured and writes UTF-8 anyway.
    encoding = env.get("PYTHONIOENCODING", "utf-8").replace("ascii", "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "shapecalc", *args],
        capture_output=True,
        encoding=encoding,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["lstm", "--units", "٣", "--input-dim", "20"],
        ["lstm", "--units", "W//0", "--input-dim", "20", "--format", "json"],
        ["convlstm", "--filters", "8", "--kernel", "3", "3", "--input", "W", "H", "3", "--format", "json"],
        ["convlstm3d", "--filters", nested(80), "--kernel", "3", "3", "3", "--input", "4", "4", "4", "1"],
        ["gru", "--units", "a" * 100_000, "--input-dim", "2"],
        ["rnn", "--units", str(10**100), "--input-dim", "2", "--format", "markdown"],
        ["nope"],
        ["lstm", "--units", "3", "--input-dim", "2", "--format", "xml"],
        ["lstm", "--units", "W\udcff", "--input-dim", "2"],  # undecodable argv bytes (b"W\xff")
    ],
    ids=lambda args: " ".join(args)[:40].encode("unicode_escape").decode(),
)
def test_real_processes_keep_the_contract(args: list[str]) -> None:
    done = shapecalc_process(*args)
    check_run(args, done.returncode, done.stdout, done.stderr)


@settings(max_examples=6, deadline=None)
@given(args=layer_argv().filter(lambda a: all(passable(arg) for arg in a)))
def test_random_real_processes_keep_the_contract(args: list[str]) -> None:
    done = shapecalc_process(*args)
    check_run(args, done.returncode, done.stdout, done.stderr)


def passable(arg: str) -> bool:
    """Whether a real argv can hold ``arg``: no NUL, no surrogate but an undecodable byte's."""
    try:
        os.fsencode(arg)
    except UnicodeEncodeError:
        return False
    return "\x00" not in arg


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ascii"])
def test_a_narrow_output_encoding_is_not_an_error(encoding: str) -> None:
    """Characters the encoding lacks (σ, ⊙, box lines) come out escaped; JSON stays valid."""
    for fmt in ("table", "json", "markdown"):
        args = ["lstm", "--units", "3", "--input-dim", "2", "--explain", "--format", fmt]
        done = shapecalc_process(*args, env_extra={"PYTHONIOENCODING": encoding})
        check_run(args, done.returncode, done.stdout, done.stderr)
        assert done.returncode == 0 and "sigmoid" in done.stdout


def test_a_completion_request_in_process_returns_its_exit_code(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_SHAPECALC_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "shapecalc lstm --u")
    monkeypatch.setenv("COMP_CWORD", "2")
    code, out, err = run_in_process(capsys, [])
    assert (code, err) == (0, "")
    assert "plain,--units" in out.splitlines()


def test_a_closed_pipe_is_not_an_error() -> None:
    """``shapecalc ... | head -c 100``: the reader leaves early; no traceback, exit 0."""
    big = ["lstm", "--framework", "torch", "--units", "8", "--input-dim", "4", "--num-layers", "1000"]
    process = subprocess.Popen(
        [sys.executable, "-m", "shapecalc", *big, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(100).startswith(b"{")
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert err == ""


def test_ctrl_c_exits_130_with_one_line() -> None:
    """Interrupted while waiting for input: ``Error: interrupted``, exit 130, no traceback."""
    process = batch_process()
    answer = ask(process, '{"layer": "rnn", "units": 2, "input_dim": 3}')
    assert answer["layer"] == "SimpleRNN"  # it runs, and waits for more
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert process.stderr is not None and process.stderr.read().decode() == "Error: interrupted\n"
