"""Run a real Keras 3 Functional model and compare every layer (and op) with shapecalc's rows.

Truth is what the model returns on concrete inputs, not ``compute_output_shape`` (which
Keras gets wrong for MultiHeadAttention's scores and for EinsumDense over two elided axes):
every call of every operation in the graph is made an output of a probe model, the probe runs
on random arrays, and each array's shape is compared with shapecalc's shape at the same sizes.

An input is declared as ``((sizes...), dtype)``: a name among the sizes is ``None`` for Keras
and a different number on each run (the same name, the same number).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapecalc import evaluate
from shapecalc.dims import Expr
from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model
from shapecalc.model.result import ModelResult

InputSpec = tuple[tuple[int | str, ...], str]
#: Batch sizes and named sizes of the runs (a name is drawn afresh on each run).
RUN_BATCHES = (2, 3)


def keras_inputs(specs: Sequence[InputSpec]) -> list[Any]:
    """``keras.Input`` per spec: named sizes unknown (``None``)."""
    import keras

    return [
        keras.Input(tuple(None if isinstance(size, str) else size for size in shape), dtype=dtype)
        for shape, dtype in specs
    ]


def _arrays(specs: Sequence[InputSpec], batch: int, sizes: dict[str, int], rng: Any) -> list[Any]:

    arrays = []
    for shape, dtype in specs:
        concrete = (batch, *(sizes[size] if isinstance(size, str) else size for size in shape))
        if dtype.startswith("int"):
            arrays.append(rng.integers(0, 3, concrete).astype(dtype))
        else:
            arrays.append(rng.standard_normal(concrete).astype(dtype))
    return arrays


def _calls(model: Any) -> list[tuple[Any, list[Any]]]:
    """Each operation of the model (input layers aside) with its calls in the graph, in order."""
    nodes = {id(node) for depth in model._nodes_by_depth.values() for node in depth}
    found = []
    for operation in model.operations:
        if type(operation).__name__ == "InputLayer":
            continue
        found.append((operation, [node for node in operation._inbound_nodes if id(node) in nodes]))
    return found


def _list(outputs: Any) -> list[Any]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(size) for size in value.shape)


def _count(weights: Any) -> int:
    return sum(math.prod(int(s) for s in weight.shape) for weight in weights)


def _ours(shape: Sequence[Any], env: dict[str, int]) -> tuple[int, ...]:
    return tuple(evaluate(size, env) if isinstance(size, Expr) else size for size in shape)


def _env(result: ModelResult, arrays: Sequence[Any]) -> dict[str, int]:
    """shapecalc's names for the unknown input sizes, valued from the arrays of a run."""
    env: dict[str, int] = {}
    for shape, array in zip(result.inputs, arrays, strict=True):
        for size, real in zip(shape, array.shape, strict=True):
            if isinstance(size, Expr):
                env[str(size)] = int(real)
    return env


def mismatches(model: Any, specs: Sequence[InputSpec], tmp: Path | None = None, seed: int = 0) -> list[str]:
    """Every way shapecalc's reading of ``model`` (its ``to_json()``, and its ``.keras`` archive
    when ``tmp`` is given) differs from what the model does on two runs of random inputs."""
    import keras
    import numpy as np

    calls = _calls(model)
    probe_outputs = [tensor for _, nodes in calls for tensor in nodes[0].outputs]
    probe = keras.Model(model.inputs, probe_outputs)
    documents = {"m.json": model.to_json().encode()}
    if tmp is not None:
        path = tmp / "m.keras"
        model.save(path)
        documents["m.keras"] = path.read_bytes()
    problems: list[str] = []
    rng = np.random.default_rng(seed)
    draw = random.Random(seed)
    names = {size for shape, _ in specs for size in shape if isinstance(size, str)}
    runs = []
    for batch in RUN_BATCHES:
        sizes = {name: draw.randint(1, 6) for name in sorted(names)}
        arrays = _arrays(specs, batch, sizes, rng)
        runs.append((arrays, [_shape(t) for t in [*_list(probe(arrays)), *_list(model(arrays))]]))
    for source, document in documents.items():
        result = propagate(parse_model(document, source))
        rows = {row.name: row for row in result.rows}
        for arrays, real in runs:
            env = _env(result, arrays)
            position = 0
            for operation, nodes in calls:
                count = len(nodes[0].outputs)
                theirs = real[position : position + count]
                position += count
                row = rows[operation.name]
                ours = [_ours(shape, env) for shape in row.shapes or ()]
                if ours != theirs:
                    problems.append(f"{source} {operation.name} at {env}: shapecalc {ours}, keras {theirs}")
            model_outputs = [_ours(shape, env) for shape in result.outputs if shape is not None]
            if model_outputs != real[position:]:
                problems.append(
                    f"{source} outputs at {env}: shapecalc {model_outputs}, keras {real[position:]}"
                )
        for operation, _ in calls:
            row = rows[operation.name]
            weights = getattr(operation, "weights", [])
            frozen = _count(getattr(operation, "non_trainable_weights", []))
            ours_counts = (_ours((row.params,), {})[0], _ours((row.non_trainable,), {})[0])
            if ours_counts != (_count(weights), frozen):
                problems.append(
                    f"{source} {operation.name} params (all, non-trainable): shapecalc {ours_counts}, "
                    f"keras {(_count(weights), frozen)}"
                )
        totals = (result.params, result.non_trainable)
        if totals != (model.count_params(), _count(model.non_trainable_weights)):
            problems.append(
                f"{source} totals: shapecalc {totals}, keras "
                f"{(model.count_params(), _count(model.non_trainable_weights))}"
            )
    return problems
