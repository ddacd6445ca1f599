"""Big and hostile model files are refused while they are parsed: within seconds, and with the
process's peak memory under 512 MiB, for any file under the 64 MB limit.

Each case runs ``shapecalc model`` in a fresh process that reports its own peak RSS (``VmHWM``:
unlike ``ru_maxrss``, it does not inherit the parent's peak across fork and exec); an address
space limit keeps a regression from taking the machine's memory with it. The files are built
as bytes (repeating a few bytes is instant), never through a serializer.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from shapecalc.model.limits import MAX_BYTES, MAX_VALUES

#: The promise: no file under the size limit takes more memory than this.
PEAK_MIB = 512
#: Wall time allowed per file (the parse itself takes about a second; this leaves room for a busy machine).
SECONDS = 15

_MEASURED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))
from shapecalc.main import main
code = main(["model", sys.argv[1], "--format", "json"])
status = open("/proc/self/status").read()
peak_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
print(peak_kib // 1024, code)
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS read from /proc")


def run_measured(path: Path) -> tuple[int, str, float, int]:
    """``shapecalc model path`` in its own process: exit code, stderr, seconds, peak RSS in MiB."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(path)], capture_output=True, text=True, timeout=120
    )
    seconds = time.perf_counter() - started
    peak, code = (int(word) for word in done.stdout.split()[-2:])
    return code, done.stderr, seconds, peak


def _fill(head: bytes, item: bytes, tail: bytes, size: int = 60 * 2**20) -> bytes:
    """``head``, ``item`` repeated with commas to about ``size`` bytes, then ``tail``."""
    count = (size - len(head) - len(tail)) // (len(item) + 1)
    return head + (item + b",") * (count - 1) + item + tail


def _keras_archive(config: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", config)
    return out.getvalue()


def _alias_bomb_in_the_name() -> bytes:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    model = {
        "class_name": "Sequential",
        "config": {"name": "NAME", "layers": [{"class_name": "Dense", "config": {"units": 2}}]},
    }
    return ("\n".join(lines) + "\n" + json.dumps(model).replace('"NAME"', "*a9") + "\n").encode()


KERAS_HEAD = b'{"class_name": "Sequential", "config": {"layers": ['
TOO_MANY = f"more than {MAX_VALUES:,} values"
BIG_FILES = {
    # 20 million empty layers: 1.5 GiB and a refusal after parsing, before these bounds.
    "empty_layers.json": (lambda: _fill(b'{"input": [4], "layers": [', b"{}", b"]}"), TOO_MANY),
    "empty_layers.keras": (lambda: _keras_archive(_fill(KERAS_HEAD, b"{}", b"]}}")), TOO_MANY),
    "name_bomb.yaml": (_alias_bomb_in_the_name, TOO_MANY),
    "flow_maps.yaml": (lambda: _fill(b"layers: [", b"{}", b"]\n"), TOO_MANY),
    "tables.toml": (lambda: b"[[layers]]\n" * (60 * 2**20 // 11), TOO_MANY),
    # Just under the value limit, with one character outside Latin-1 widening every character
    # of the decoded text to 4 bytes: the worst a JSON file can cost in memory.
    "wide_text.json": (
        lambda: (
            b'{"input": [4], "layers": ['
            + b"{}," * (MAX_VALUES // 2 - 10)
            + b'{}], "name": "\xf0\x9f\x98\x80'
            + b" " * (60 * 2**20 - 3 * MAX_VALUES)
            + b'"}'
        ),
        "layers, more than a model may hold (100,000)",
    ),
    # Every character outside the BMP: the escaped text grows to 3 times the file.
    "emoji_text.json": (
        lambda: b'{"input": [4], "note": "' + "\U0001f600".encode() * (15 * 2**20) + b'", "layers": []}',
        "at least 1 item",
    ),
    "long_name.json": (
        lambda: (
            b'{"input": [4], "name": "'
            + b"x" * (60 * 2**20)
            + b'", "layers": [{"type": "dense", "units": 2}]}'
        ),
        "longer than 1,000 characters",
    ),
    "long_number.json": (
        lambda: b'{"input": [' + b"9" * (60 * 2**20) + b'], "layers": [{"type": "dense", "units": 2}]}',
        "a number has more than 4300 digits",
    ),
}


@pytest.mark.parametrize("name", sorted(BIG_FILES))
def test_big_files_are_refused_in_bounded_time_and_memory(tmp_path: Path, name: str) -> None:
    build, message = BIG_FILES[name]
    data = build()
    assert len(data) <= MAX_BYTES
    path = tmp_path / name
    path.write_bytes(data)
    code, err, seconds, peak = run_measured(path)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert peak < PEAK_MIB, f"{name}: peak RSS {peak} MiB"
    assert seconds < SECONDS, f"{name}: {seconds:.1f} s"
