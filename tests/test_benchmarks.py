"""The benchmark scripts run and report what they promise (so they cannot rot).

Timing is asserted only by the tests marked ``slow``, which the default run leaves out (a
shared machine is too noisy): ``python -m pytest -m slow`` runs them, and
``python benchmarks/bench_startup.py --check`` checks the targets on a quiet machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def run_script(name: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_startup_benchmark_runs_and_reports_each_case() -> None:
    result = run_script("bench_startup.py", "--runs", "5", "--warmup", "1", "--no-frameworks")
    cases = result["cases"]
    assert isinstance(cases, dict)
    assert list(cases) == ["python", "click", "json", "table", "completion"]
    for row in cases.values():
        assert row["runs"] == 5 and row["median_ms"] > 0 and row["cpu_ms"] > 0
    assert cases["python"]["ratio"] == 1.0
    assert {name: row["target"] for name, row in cases.items()} == {
        "python": None,
        "click": None,
        "json": 2.5,
        "table": 4.0,
        "completion": 2.5,
    }
    assert cases["json"]["click_target"] == 1.25


@pytest.mark.slow
def test_json_starts_within_5x_of_bare_python() -> None:
    cases = run_script("bench_startup.py", "--runs", "5", "--warmup", "1", "--no-frameworks")["cases"]
    assert isinstance(cases, dict)
    # The fastest runs are the least disturbed by other load on the machine.
    assert cases["json"]["min_ratio"] < 5, cases


def test_batch_benchmark_runs_every_layer_kind() -> None:
    result = run_script("bench_batch.py", "--configs", "80", "--repeat", "1")
    assert result["configs"] == 80
    assert 0 < result["engine_s"] < result["process_s"]


@pytest.mark.slow
def test_batch_of_eighty_takes_under_a_second() -> None:
    assert run_script("bench_batch.py", "--configs", "80", "--repeat", "1")["under_one_second"] is True


def test_weights_benchmark_reads_big_files_in_bounded_memory() -> None:
    report = run_script("bench_weights.py", "--gb", "0.2", "--zip-gb", "0.02", "--repeat", "1")
    big, tiny = report["big.safetensors"], report["tiny.safetensors"]
    assert isinstance(big, dict) and isinstance(tiny, dict)
    assert big["file_bytes"] > 2**27 and big["layers"] == 1 and report["big.pt"]["layers"] == 1  # type: ignore[index]
    assert big["peak_rss_kib"] < tiny["peak_rss_kib"] + 16 * 1024  # the data is never read
