"""Batch mode: 1,000 configs through ``shapecalc batch``, engine time and whole process.

The configs mix every layer kind, numeric and symbolic sizes, both
frameworks (see ``configs``). Reported:

* engine: the CPU time of ``shapecalc.batch.run_batch`` over all lines in
  this process, from the bytes of each line to its JSON answer (the fastest
  of ``--repeat`` runs; other processes on the machine don't count);
* process: the wall time of ``python -m shapecalc batch FILE``, start-up
  included (the median of ``--repeat`` runs).

    python benchmarks/bench_batch.py [--configs 1000] [--repeat 5] [--json]
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


def configs(count: int) -> bytes:
    """``count`` JSON lines cycling through ``KINDS``, each with its own batch size."""
    lines = [json.dumps({**KINDS[i % len(KINDS)], "batch": 1 + i % 64}) for i in range(count)]
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


def process_seconds(data: bytes, repeat: int) -> float:
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
        handle.write(data)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    try:
        for _ in range(repeat + 1):  # the first run writes the bytecode caches
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "shapecalc", "batch", handle.name],
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )
            times.append(time.perf_counter() - started)
    finally:
        os.unlink(handle.name)
    return statistics.median(times[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    data = configs(args.configs)
    engine = engine_seconds(data, max(args.repeat, 1))
    process = process_seconds(data, max(args.repeat, 1))
    result = {
        "configs": args.configs,
        "engine_s": round(engine, 3),
        "engine_per_config_ms": round(engine * 1000 / args.configs, 3),
        "process_s": round(process, 3),
        "under_one_second": engine < 1.0,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.configs} configs: engine {engine:.3f} s CPU ({result['engine_per_config_ms']} ms each), "
            f"whole process {process:.3f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
