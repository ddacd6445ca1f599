"""Batch mode: 10,000 configs through ``shapecalc batch``, engine time and whole process.

The configs mix every layer kind, numeric and symbolic sizes, both
frameworks (see ``configs``). The mix repeats itself (batch mode answers a
config it has seen from memory), so a second set makes every line a config
of its own (``distinct``: each line its own batch size), which no memory helps.
Reported, for both sets:

* engine: the CPU time of ``shapecalc.batch.run_batch`` over all lines in
  this process, from the bytes of each line to its JSON answer (the fastest
  of ``--repeat`` runs; other processes on the machine don't count);
* process: the wall time of ``python -m shapecalc batch FILE``, start-up
  included (the median of ``--repeat`` runs);
* ratio: process as a multiple of one cold start of
  ``shapecalc lstm --units 32 --input-dim 20 --format json`` (the median of
  as many runs, alternating with the batch runs, so a busy machine slows all
  alike). Target: the mix within 15x, so 10,000 configs cost about 15 single runs.

    python benchmarks/bench_batch.py [--configs 10000] [--repeat 5] [--json] [--check]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from shapecalc.batch import read_lines, run_batch

KINDS = [
    {"layer": "lstm", "units": 32, "input_dim": 20},
    {"layer": "gru", "units": "U", "input_dim": 12, "bidirectional": True},
    {"layer": "rnn", "units": 16, "input_dim": "D", "return_sequences": True},
    {"layer": "convlstm", "filters": 8, "kernel": [3, 3], "input": ["W", "H", 3], "strides": [2, 2]},
    {"layer": "convlstm1d", "filters": 4, "kernel": 5, "input": [100, 2], "padding": "same"},
    {"layer": "convlstm3d", "filters": 4, "kernel": [3, 3, 3], "input": [16, 32, 32, 1]},
    {"layer": "lstm", "framework": "torch", "hidden_size": 64, "input_size": 32, "num_layers": 2},
    {"layer": "gru", "framework": "torch", "hidden_size": "H", "input_size": 8, "batch_first": True},
]
#: The most the mix's whole process may take, as a multiple of one JSON cold start.
TARGET_RATIO = 15.0
JSON_START = ["lstm", "--units", "32", "--input-dim", "20", "--format", "json"]


def configs(count: int, distinct: bool = False) -> bytes:
    """``count`` JSON lines cycling through ``KINDS``, each with a batch size of 1 to 64
    (``distinct``: the line number, so that no two lines are the same config)."""
    lines = [
        json.dumps({**KINDS[i % len(KINDS)], "batch": 1 + (i if distinct else i % 64)}) for i in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def engine_seconds(data: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        out: list[str] = []
        started = time.process_time()
        failed = run_batch(read_lines(io.BytesIO(data)), out.append)
        best = min(best, time.process_time() - started)
        if failed:
            raise SystemExit(f"lines {failed[:5]} failed: {out[failed[0] - 1]}")
    return best


def wall_seconds(args: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "shapecalc", *args], check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def process_seconds(sets: dict[str, bytes], repeat: int) -> dict[str, float]:
    """Median wall times of ``shapecalc batch`` on each set and of the JSON cold start, in turns."""
    files = {}
    for name, data in sets.items():
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
            handle.write(data)
        files[name] = handle.name
    cases = {"json_start": JSON_START, **{name: ["batch", path] for name, path in files.items()}}
    times: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for round_ in range(repeat + 1):  # the first round writes the bytecode caches
            for name, args in cases.items():
                took = wall_seconds(args)
                if round_:
                    times[name].append(took)
    finally:
        for path in files.values():
            os.unlink(path)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when the mix misses {TARGET_RATIO}x")
    args = parser.parse_args(argv)
    repeat = max(args.repeat, 1)
    sets = {"mix": configs(args.configs), "distinct": configs(args.configs, distinct=True)}
    engine = {name: engine_seconds(data, repeat) for name, data in sets.items()}
    process = process_seconds(sets, repeat)
    start = process["json_start"]
    result = {
        "configs": args.configs,
        "engine_s": round(engine["mix"], 3),
        "per_config_ms": round(engine["mix"] * 1000 / args.configs, 4),
        "process_s": round(process["mix"], 3),
        "under_one_second": engine["mix"] < 1.0,
        "distinct_engine_s": round(engine["distinct"], 3),
        "distinct_per_config_ms": round(engine["distinct"] * 1000 / args.configs, 4),
        "distinct_process_s": round(process["distinct"], 3),
        "json_start_ms": round(start * 1000, 1),
        "ratio": round(process["mix"] / start, 2),
        "distinct_ratio": round(process["distinct"] / start, 2),
        "target_ratio": TARGET_RATIO,
        "met": process["mix"] / start <= TARGET_RATIO,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        verdict = "ok" if result["met"] else "MISSED"
        print(f"{args.configs} configs, one JSON cold start {result['json_start_ms']} ms:")
        for name, prefix in (("mix", ""), ("distinct", "distinct_")):
            print(
                f"  {name:<8} engine {engine[name]:.3f} s CPU ({result[prefix + 'per_config_ms']} ms each), "
                f"whole process {process[name]:.3f} s = {result[prefix + 'ratio']}x a cold start"
                + (f" (target {TARGET_RATIO}x: {verdict})" if name == "mix" else "")
            )
    return 1 if args.check and not result["met"] else 0


if __name__ == "__main__":
    sys.exit(main())
