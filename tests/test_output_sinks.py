"""Where the output goes, as real processes: a closed stdout, a full disk, a reader that leaves
(``| true``, ``| head -c 1``), Ctrl-C at any moment, and an output encoding that is not UTF-8.

Exit codes: a reader that leaves ends the run quietly with exit 0; a stdout that cannot be
written (closed, full) is one ``Error:`` line and exit 1; Ctrl-C is ``Error: interrupted``, 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SHAPECALC = [sys.executable, "-m", "shapecalc"]
MODEL = str(Path(__file__).parent.parent / "shapecalc" / "examples" / "stacked_lstm.yaml")


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("batch") / "configs.jsonl"
    line = json.dumps({"layer": "lstm", "units": 32, "input_dim": 20})
    path.write_text((line + "\n") * 200, encoding="utf-8")
    return str(path)


def commands(batch_file: str) -> list[list[str]]:
    return [
        ["lstm", "--units", "4", "--input-dim", "3"],
        ["lstm", "--units", "4", "--input-dim", "3", "--format", "json"],
        ["model", MODEL],
        ["model", MODEL, "--format", "html"],
        ["batch", batch_file],
        ["--help"],
    ]


def environment() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("SHAPECALC_DEBUG", None)
    return env


def in_shell(redirect: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``shapecalc ARGS`` with stdout redirected by the shell (``>&-``, ``> /dev/full``)."""
    script = f'exec "$@" {redirect}'
    return subprocess.run(
        ["sh", "-c", script, "sh", *SHAPECALC, *args],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
    )


def into_reader(reader: list[str], args: list[str]) -> tuple[int, str]:
    """``shapecalc ARGS | READER``: shapecalc's own exit code and stderr."""
    sink = subprocess.Popen(reader, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    if reader == ["true"]:
        sink.wait()  # gone before shapecalc writes anything
    assert sink.stdin is not None
    done = subprocess.run(
        [*SHAPECALC, *args],
        stdout=sink.stdin,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        timeout=60,
    )
    sink.stdin.close()
    sink.wait()
    return done.returncode, done.stderr


@pytest.mark.parametrize("index", range(6))
def test_a_closed_stdout_is_one_error_line(batch_file, index):
    args = commands(batch_file)[index]
    done = in_shell(">&-", args)
    assert (done.returncode, done.stderr) == (1, "Error: cannot write the output: stdout is closed\n")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("index", range(6))
def test_a_full_disk_is_one_error_line(batch_file, index):
    args = commands(batch_file)[index]
    done = in_shell("> /dev/full", args)
    assert done.returncode == 1, done.stderr
    assert done.stderr in (
        "Error: cannot write the output: No space left on device\n",
        "Error: No space left on device\n",  # Click's own --help writes it
    )


@pytest.mark.parametrize("reader", [["true"], ["head", "-c", "1"]], ids=["true", "head"])
@pytest.mark.parametrize("index", range(6))
def test_a_reader_that_leaves_ends_the_run_quietly(batch_file, reader, index):
    code, err = into_reader(reader, commands(batch_file)[index])
    assert (code, err) == (0, "")


def _catches_sigint(pid: int) -> bool:
    """Whether process ``pid`` has installed a SIGINT handler (Linux: ``SigCgt`` in /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12])
def test_ctrl_c_at_any_moment_is_one_line_and_130(delay):
    """SIGINT while shapecalc imports Click and the engine, or parses: never a traceback.

    The delays count from the moment shapecalc's handler is in place (its first statement),
    read off /proc, so a busy machine cannot move them into Python's own start-up, where no
    program can catch a signal. The child starts with SIGINT ignored, so Python installs no
    handler of its own and the first one /proc shows is shapecalc's.
    """
    process = subprocess.Popen(
        [*SHAPECALC, "batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 30
    while not _catches_sigint(process.pid):
        assert process.poll() is None and time.monotonic() < deadline, "shapecalc never installed its handler"
        time.sleep(0.0005)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err == b"Error: interrupted\n"


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "cp1252"])
def test_json_is_utf8_whatever_the_output_encoding(tmp_path, encoding):
    """RFC 8259: JSON is UTF-8. A name Latin-1 cannot hold comes out exact, not backslashed."""
    path = tmp_path / "m.json"
    name = "σ_编码器_😀"
    path.write_text(json.dumps({"input": [4], "layers": [{"type": "dense", "units": 2, "name": name}]}))
    env = {**environment(), "PYTHONIOENCODING": encoding}
    for args in (["model", str(path), "--format", "json"], ["batch"]):
        line = json.dumps({"layer": "lstm", "units": "σ", "input_dim": 3}, ensure_ascii=False) + "\n"
        stdin = line.encode("utf-8") if args == ["batch"] else b""
        done = subprocess.run([*SHAPECALC, *args], input=stdin, capture_output=True, env=env, timeout=60)
        text = done.stdout.decode("utf-8")  # strict: must be valid UTF-8
        if args[0] == "model":
            assert done.returncode == 0, done.stderr
            assert [layer["name"] for layer in json.loads(text)["layers"]][-1] == name
        else:
            assert "σ" in json.loads(text)["error"]


def test_a_lone_surrogate_in_a_name_is_refused_in_one_line(tmp_path):
    """A JSON model file may spell a lone surrogate (``"\\ud800"``), which no UTF-8 output can
    carry: the file is refused with one line, whatever the output encoding."""
    path = tmp_path / "m.json"
    path.write_text('{"input": [4], "layers": [{"type": "dense", "units": 2, "name": "a\\ud800b"}]}')
    done = subprocess.run(
        [*SHAPECALC, "model", str(path), "--format", "json"],
        capture_output=True,
        env=environment(),
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode("utf-8").startswith("Error: m.json: ") and done.stderr.count(b"\n") == 1
