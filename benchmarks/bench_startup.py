"""Cold start of whole processes: shapecalc against the bare interpreter (and Keras 3, torchinfo).

Every case is a fresh ``python`` process, timed from spawn to exit; the cases
run in turn, round after round (the order rotates each round), so a busy
machine slows them alike. Reported: the median and fastest wall time, the
child's CPU time, and each median as a ratio to ``python -c pass``.

Cases:

* ``python``: ``python -c pass``, the floor;
* ``click``: ``python -c "import click"``, what any Click program pays before it does anything;
* ``json``: ``shapecalc lstm --units 32 --input-dim 20 --format json`` (target 2.5x);
* ``table``: the same, as the default rich table, piped (target 4x);
* ``completion``: a bash completion request for ``shapecalc lstm --`` (target 2.5x);
* ``keras``: Keras 3 (``KERAS_BACKEND=torch``) building the same LSTM and listing its weights' shapes;
* ``torchinfo``: torchinfo summarising the same ``nn.LSTM``.

The last two run only where Keras / torchinfo are installed (fewer rounds:
each takes seconds). shapecalc runs as ``python -m shapecalc`` with the
interpreter running this script, and with bytecode caches written, as after
``pip install`` (a pyenv shim in front of the ``shapecalc`` script would add
its own start-up to every run).

With ``--instructions`` each shapecalc case and ``python -c pass`` also run once under
``valgrind --tool=callgrind``: instruction counts, and their ratios, do not depend on what
else the machine is doing.

    python benchmarks/bench_startup.py [--runs 21] [--framework-runs 5] [--instructions] [--json] [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

PYTHON = sys.executable
LSTM_ARGS = ["lstm", "--units", "32", "--input-dim", "20"]
KERAS_JOB = (
    "import keras; layer = keras.layers.LSTM(32); layer.build((None, None, 20)); "
    "print([(w.path, tuple(w.shape)) for w in layer.weights])"
)
TORCHINFO_JOB = (
    "import torch, torchinfo; "
    "print(torchinfo.summary(torch.nn.LSTM(20, 32), input_size=(5, 1, 20), verbose=0))"
)
#: The most each case may take, as a multiple of ``python -c pass``.
TARGETS = {"json": 2.5, "completion": 2.5, "table": 4.0}
#: The most the JSON path may take as a multiple of ``python -c "import click"``: shapecalc's
#: own share on top of Click stays a quarter of Click's.
CLICK_TARGETS = {"json": 1.25}


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    framework: bool = False
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    instructions: int | None = None

    def run(self, base_env: dict[str, str]) -> None:
        """One cold run: wall time from spawn to exit, and the child's user + system CPU time."""
        started = time.perf_counter()
        process = subprocess.Popen(
            self.argv, env={**base_env, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert process.stderr is not None
        error = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(usage.ru_utime + usage.ru_stime)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"{self.name} failed (exit {process.returncode}): {error.decode()[-500:]}")

    def count_instructions(self, base_env: dict[str, str]) -> None:
        """Instructions one run executes, under valgrind: the same count on a busy machine or an idle one."""
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *self.argv],
            env={**base_env, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise SystemExit(f"valgrind printed no instruction count for {self.name}: {done.stderr[-300:]}")
        self.instructions = int(found.group(1))


def cases(with_frameworks: bool) -> list[Case]:
    shapecalc = [PYTHON, "-m", "shapecalc"]
    found = [
        Case("python", [PYTHON, "-c", "pass"]),
        Case("click", [PYTHON, "-c", "import click"]),
        Case("json", [*shapecalc, *LSTM_ARGS, "--format", "json"]),
        Case("table", [*shapecalc, *LSTM_ARGS]),
        Case(
            "completion",
            shapecalc,
            {"_SHAPECALC_COMPLETE": "bash_complete", "COMP_WORDS": "shapecalc lstm --", "COMP_CWORD": "2"},
        ),
    ]
    if with_frameworks and importlib.util.find_spec("keras") and importlib.util.find_spec("torch"):
        found.append(Case("keras", [PYTHON, "-c", KERAS_JOB], {"KERAS_BACKEND": "torch"}, framework=True))
    if with_frameworks and importlib.util.find_spec("torchinfo"):
        found.append(Case("torchinfo", [PYTHON, "-c", TORCHINFO_JOB], framework=True))
    return found


def environment() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up runs write the caches an install would
    return env


def measure(found: list[Case], runs: int, framework_runs: int, warmup: int) -> None:
    env = environment()
    for case in found:
        for _ in range(warmup):
            case.run(env)
        case.wall.clear()
        case.cpu.clear()
    for round_ in range(runs):
        order = found[round_ % len(found) :] + found[: round_ % len(found)]
        for case in order:
            if not case.framework or round_ < framework_runs:
                case.run(env)


def report(found: list[Case]) -> dict[str, object]:
    floor = statistics.median(found[0].wall)
    floor_cpu = statistics.median(found[0].cpu)
    click_floor = statistics.median(found[1].wall)
    rows: dict[str, dict[str, float | int | bool | None]] = {}
    for case in found:
        median = statistics.median(case.wall)
        target = TARGETS.get(case.name)
        rows[case.name] = {
            "runs": len(case.wall),
            "median_ms": round(median * 1000, 1),
            "min_ms": round(min(case.wall) * 1000, 1),
            "cpu_ms": round(statistics.median(case.cpu) * 1000, 1),
            "ratio": round(median / floor, 2),
            "min_ratio": round(min(case.wall) / min(found[0].wall), 2),
            "cpu_ratio": round(statistics.median(case.cpu) / floor_cpu, 2),
            "target": target,
            "met": None if target is None else median / floor <= target,
            "click_ratio": round(median / click_floor, 2),
            "click_target": CLICK_TARGETS.get(case.name),
        }
        click_target = CLICK_TARGETS.get(case.name)
        if click_target is not None:
            rows[case.name]["met"] = bool(rows[case.name]["met"]) and median / click_floor <= click_target
        if case.instructions is not None and found[0].instructions:
            rows[case.name]["instructions"] = case.instructions
            rows[case.name]["instruction_ratio"] = round(case.instructions / found[0].instructions, 2)
    return {
        "python": sys.version.split()[0],
        "executable": PYTHON,
        "cases": rows,
        "all_targets_met": all(row["met"] is not False for row in rows.values()),
    }


def print_table(result: dict[str, object]) -> None:
    rows = result["cases"]
    assert isinstance(rows, dict)
    print(f"cold starts, Python {result['python']} ({result['executable']})")
    header = ("case", "runs", "median ms", "min ms", "cpu ms", "ratio", "target", "/click", "target")
    print("{:<11} {:>4} {:>10} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}".format(*header))
    for name, row in rows.items():
        target = f"{row['target']}x" if row["target"] else ""
        click_target = f"{row['click_target']}x" if row["click_target"] else ""
        verdict = "" if row["met"] is None else ("ok" if row["met"] else "MISSED")
        counted = (
            f"  {row['instructions'] / 1e6:.1f}M instructions, {row['instruction_ratio']:.2f}x"
            if "instructions" in row
            else ""
        )
        print(
            f"{name:<11} {row['runs']:>4} {row['median_ms']:>10.1f} {row['min_ms']:>8.1f} "
            f"{row['cpu_ms']:>8.1f} {row['ratio']:>6.2f}x {target:>7} {row['click_ratio']:>6.2f}x "
            f"{click_target:>7} {verdict:<6}{counted}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21, help="rounds of the shapecalc cases (default 21)")
    parser.add_argument(
        "--framework-runs", type=int, default=5, help="rounds of Keras / torchinfo (default 5)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs of each case first (default 2)")
    parser.add_argument("--no-frameworks", action="store_true", help="skip Keras and torchinfo")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each case's instructions once under valgrind (the same on a busy machine)",
    )
    args = parser.parse_args(argv)
    found = cases(with_frameworks=not args.no_frameworks)
    measure(found, max(args.runs, 1), args.framework_runs, args.warmup)
    if args.instructions:
        for case in found:
            if not case.framework:
                case.count_instructions(environment())
    result = report(found)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 1 if args.check and not result["all_targets_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
