"""Engine time of ``shapecalc model`` on a 10,000-layer model file.

Builds shapecalc model files in memory and times parsing, loading and shape
propagation separately (best of a few runs), for:

* ``mixed``: a stack of 2,500 blocks (Dense, Dropout, LayerNormalization, LSTM)
  whose sizes change from block to block, so no two LSTMs are alike;
* ``strided``: 10,000 ``Conv1D`` layers on a symbolic length ``L`` (kernel 3;
  ``valid`` every 10th layer, stride 2 every 500th, ``same`` otherwise), where
  the length expression must stay small (it folds to one floor division).

    python benchmarks/bench_model.py [--layers 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from shapecalc.dims import format_shape
from shapecalc.model.engine import clear_caches, propagate
from shapecalc.model.reader import load_document, parse_document


def mixed(layers: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for index in range(layers // 4):
        units = 8 + index % 97
        entries += [
            {"type": "dense", "units": units},
            {"type": "dropout", "rate": 0.1},
            {"type": "layer_normalization"},
            {"type": "lstm", "units": units, "return_sequences": True},
        ]
    return {"input": ["timestep", 16], "layers": entries}


def strided(layers: int) -> dict[str, Any]:
    entries = [
        {
            "type": "conv1d",
            "filters": 4,
            "kernel": 3,
            "strides": 2 if index % 500 == 499 else 1,
            "padding": "valid" if index % 10 == 9 else "same",
        }
        for index in range(layers)
    ]
    return {"input": ["L", 4], "layers": entries}


def cold_propagate(graph: Any) -> Any:
    clear_caches()
    return propagate(graph)


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The least CPU time of ``repeat`` runs (process time: other processes on the machine don't count)."""
    times, value = [], None
    for _ in range(repeat):
        start = time.process_time()
        value = run()
        times.append(time.process_time() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, build in (("mixed", mixed), ("strided", strided)):
        source = f"{name}.json"
        data = json.dumps(build(args.layers)).encode()
        parse_time, document = best(partial(parse_document, data, source), args.repeat)
        load_time, graph = best(partial(load_document, document, source), args.repeat)
        run_time, result = best(partial(cold_propagate, graph), args.repeat)
        output = format_shape(result.outputs[0])
        print(
            f"{name:8} {len(graph.layers) - 1:6} layers: parse {parse_time * 1000:6.1f} ms, "
            f"load {load_time * 1000:6.1f} ms, propagate {run_time * 1000:6.1f} ms, "
            f"engine total {(load_time + run_time) * 1000:6.1f} ms; output {output[:60]}"
            + ("..." if len(output) > 60 else "")
        )


if __name__ == "__main__":
    main()
