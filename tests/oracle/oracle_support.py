"""What every differential test shares: shapecalc's JSON read at concrete sizes,
and the comparison of that JSON with what a real framework built.

A *case* is one layer config drawn from a seed. shapecalc sees it with some
sizes as names (``U``, ``W``, ``batch`` ...); the framework sees the same layer
with numbers, and with ``None`` where Keras allows an unknown size. ``env``
gives every name its number for each real run.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import require_oracle

from shapecalc import ShapecalcError, evaluate, parse_dim, shapes

os.environ.setdefault("KERAS_BACKEND", "torch")

JsonDim = int | str
Env = Mapping[str, int]


#: Every differential test module's marks: ``oracle``, and quiet about the frameworks' own
#: deprecations (Keras's torch backend converting variables to NumPy, oneDNN's projection fallback).
ORACLE_MARKS = [
    pytest.mark.oracle,
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"),
    pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN"),
]


def require_frameworks(*modules: str) -> None:
    """Skip (or fail in CI) without the frameworks; run them on one thread.

    The layers here are tiny: PyTorch's thread pool costs more than it saves
    (three times the run time on two cores).
    """
    for module in modules:
        require_oracle(module)
    import torch

    torch.set_num_threads(1)


@dataclass
class Case:
    """One config, as shapecalc options and as what the framework builds."""

    kind: str
    options: dict[str, Any]
    #: Name -> number for each real run (the unknown sizes change between runs).
    runs: list[dict[str, int]]
    #: Names the framework sees as ``None`` (unknown until run).
    unknown: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        given = ", ".join(f"{key}={value!r}" for key, value in self.options.items())
        return f"{self.kind}({given}) at {self.runs}"


@dataclass
class Built:
    """What the framework built for a case: all shapes as plain tuples, ``None`` for unknown."""

    weights: dict[str, tuple[int, ...]]
    #: The real weight arrays, by shapecalc name, to slice with each gate's index.
    arrays: dict[str, Any]
    params: int
    #: Output shapes before any data flows (Keras symbolic tensors); ``None`` entries allowed.
    symbolic_outputs: list[tuple[int | None, ...]] | None
    #: Output shapes of one real run per ``Case.runs`` entry.
    run_outputs: list[list[tuple[int, ...]]]
    #: Shape of each state tensor name (``hidden_state``, ``forward/cell_state`` ...), first run.
    states: dict[str, tuple[int, ...]]
    #: Input shape of the first run.
    input_shape: tuple[int, ...]


def dim_value(dim: JsonDim, env: Env) -> int:
    return dim if isinstance(dim, int) else evaluate(parse_dim(dim), env)


def shape_value(shape: Sequence[JsonDim], env: Env) -> tuple[int, ...]:
    return tuple(dim_value(dim, env) for dim in shape)


def names_in(dim: JsonDim) -> set[str]:
    return set() if isinstance(dim, int) else parse_dim(dim).names()


_BOUND = re.compile(r"^([^:]+):([^:]+)$")


def apply_index(array: Any, index: str, env: Env) -> Any:
    """Slice ``array`` with a shapecalc slice text such as ``[:, U:U*2]``, ``[..., 8:16]`` or
    ``[1, 0:8]`` (an ONNX weight's direction, then the gate)."""
    assert index.startswith("[") and index.endswith("]"), index
    parts: list[Any] = []
    for part in index[1:-1].split(", "):
        if part == "...":
            parts.append(Ellipsis)
        elif part == ":":
            parts.append(slice(None))
        else:
            match = _BOUND.match(part)
            if match is None:  # one position on the axis
                parts.append(dim_value(part, env))
                continue
            parts.append(slice(dim_value(match[1], env), dim_value(match[2], env)))
    return array[tuple(parts)]


def constraint_holds(constraint: str, env: Env) -> bool:
    """``W >= 3`` at ``W=2`` -> False."""
    left, right = constraint.split(" >= ")
    return dim_value(left, env) >= dim_value(right, env)


def shapecalc_json(case: Case) -> dict[str, Any] | str:
    """shapecalc's JSON for the case, or the refusal message.

    A config that is only valid for some sizes (a symbolic constraint) counts as
    refused when a constraint is false at the first run's sizes.
    """
    try:
        result = shapes(case.kind, **case.options).to_json()
    except ShapecalcError as error:
        return f"shapecalc refused: {error}"
    broken = [c for c in result["constraints"] if not constraint_holds(c, case.runs[0])]
    if broken:
        return f"shapecalc constraint false: {', '.join(broken)}"
    return result


def framework_build(build: Callable[[], Built]) -> Built | str:
    """Run ``build`` and report a framework's refusal (any exception) as text."""
    try:
        return build()
    except Exception as error:  # the frameworks refuse with ValueError, RuntimeError, TypeError...
        return f"framework refused: {type(error).__name__}: {' '.join(str(error).split())[:300]}"


def mismatches(case: Case, derived: dict[str, Any] | str, built: Built | str) -> list[str]:
    """Every way shapecalc's JSON and the framework's layer disagree (empty when they agree)."""
    if isinstance(derived, str) or isinstance(built, str):
        if isinstance(derived, str) == isinstance(built, str):
            return []  # both refuse
        return [derived if isinstance(derived, str) else built]  # type: ignore[list-item]
    env = case.runs[0]
    problems: list[str] = []
    tensors = {t["name"]: t for t in derived["tensors"]}

    def expect(what: str, ours: object, theirs: object) -> None:
        if ours != theirs:
            problems.append(f"{what}: shapecalc {ours}, framework {theirs}")

    weights = {name: shape_value(t["shape"], env) for name, t in tensors.items() if t["role"] == "weight"}
    expect("weight names", list(weights), list(built.weights))
    for name in weights.keys() & built.weights.keys():
        expect(f"{name} shape", weights[name], built.weights[name])
    for name, tensor in tensors.items():
        if tensor["role"] == "weight_slice" and tensor["slice_of"] in built.arrays:
            part = apply_index(built.arrays[tensor["slice_of"]], tensor["index"], env)
            expect(
                f"{name} = {tensor['slice_of']}{tensor['index']}",
                shape_value(tensor["shape"], env),
                part.shape,
            )
    expect("params", dim_value(derived["params"], env), built.params)
    expect("input", shape_value(tensors["input"]["shape"], env), built.input_shape)
    for name, shape in built.states.items():
        expect(name, shape_value(tensors[name]["shape"], env), shape)
    for name, tensor in tensors.items():
        if tensor["role"] == "gate":
            # Gates combine element-wise with the cell state (LSTM) or the hidden state.
            prefix = name.rpartition("gate_")[0]
            real = built.states.get(f"{prefix}cell_state") or built.states[f"{prefix}hidden_state"]
            expect(name, shape_value(tensor["shape"], env), real)
    outputs = [tensors[name]["shape"] for name in derived["outputs"]]
    for run, real in zip(case.runs, built.run_outputs, strict=True):
        expect(f"outputs {derived['outputs']} at {run}", [shape_value(s, run) for s in outputs], real)
    if built.symbolic_outputs is not None:
        expect("number of outputs", len(outputs), len(built.symbolic_outputs))
        for name, ours, theirs in zip(derived["outputs"], outputs, built.symbolic_outputs, strict=False):
            problems += _symbolic_mismatches(name, ours, theirs, case.unknown, env)
    return problems


def _symbolic_mismatches(
    name: str, ours: Sequence[JsonDim], theirs: Sequence[int | None], unknown: set[str], env: Env
) -> list[str]:
    """A dimension is ``None`` in the framework exactly when shapecalc's uses an unknown name."""
    if len(ours) != len(theirs):
        return [f"{name} symbolic rank: shapecalc {list(ours)}, framework {list(theirs)}"]
    problems = []
    for axis, (dim, known) in enumerate(zip(ours, theirs, strict=True)):
        if known is None:
            if not names_in(dim) & unknown:
                problems.append(f"{name}[{axis}]: framework None, shapecalc {dim!r}")
        elif names_in(dim) & unknown or dim_value(dim, env) != known:
            problems.append(f"{name}[{axis}]: framework {known}, shapecalc {dim!r}")
    return problems


def check(case: Case, build: Callable[[], Built]) -> None:
    """Assert that shapecalc and the framework agree on ``case`` (or both refuse it)."""
    derived = shapecalc_json(case)
    built = framework_build(build)
    problems = mismatches(case, derived, built)
    assert not problems, f"{case}\n  " + "\n  ".join(problems)


def size(
    rng: random.Random, low: int, high: int, name: str, symbolic: float, env: dict[str, int]
) -> int | str:
    """A size in ``[low, high]``; with probability ``symbolic`` shapecalc sees it as ``name``."""
    value = int(rng.randint(low, high))
    if rng.random() < symbolic:
        env[name] = value
        return name
    return value


def sequence_sizes(
    rng: random.Random, options: dict[str, Any], env: dict[str, int]
) -> tuple[list[dict[str, int]], set[str]]:
    """Batch and timesteps: a number, or unknown (a name) that takes two values in two runs.

    Returns the runs' environments and the names the framework does not know.
    """
    unknown: set[str] = set()
    second: dict[str, int] = {}
    for option, names in (("batch", ("batch", "N")), ("timesteps", ("timestep", "T"))):
        value = int(rng.randint(1, 3))
        if rng.random() < 0.5:
            options[option] = value
            continue
        name = names[int(rng.randint(0, 1))]
        if name != names[0]:
            options[option] = name
        unknown.add(name)
        env[name] = value
        second[name] = value % 3 + 1  # a different value for the second run
    runs = [dict(env)]
    if second:
        runs.append({**env, **second})
    return runs, unknown
