"""Run a small Keras 3 model layer by layer on real data, and compare shapecalc's reading of
its saved config with what every layer really returned.

A model here is a list of inputs and a list of layer steps (class, arguments, the names it
reads). It is built in Keras as a Functional model (its ``to_json()`` and ``.keras`` archive
are what shapecalc reads), then run eagerly, each layer called on the arrays its inputs
produced: Keras' torch backend cannot feed strings through a Functional model, and
``compute_output_shape`` is not the truth (a layer's returned tensor is). Where Keras refuses
the model (building it or running it), shapecalc must refuse the same config, written out
by hand as Keras would have saved it.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapecalc import ShapecalcError, evaluate
from shapecalc.dims import Expr
from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model
from shapecalc.model.result import ModelResult

os.environ.setdefault("KERAS_BACKEND", "torch")

#: Words the text layers read (lower case, no punctuation: standardising leaves them as they are).
WORDS = ("apple", "berry", "cherry", "date", "elder", "fig", "grape", "kiwi")


@dataclass
class Input:
    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"
    #: Values to draw: ``float`` (uniform 0..1 scaled by ``high``), ``int`` (0..high-1),
    #: ``text`` (1..high words), ``word`` (one word, or a choice of ``choices``).
    kind: str = "float"
    high: float = 1.0
    choices: tuple[Any, ...] = ()


@dataclass
class Step:
    name: str
    class_name: str
    arguments: dict[str, Any]
    inputs: tuple[str, ...]
    #: Data to ``adapt()`` the layer on before it is called (a vocabulary, a mean).
    adapt: Any = None


@dataclass
class Net:
    inputs: list[Input]
    steps: list[Step]
    #: Run with ``training=True`` (the augmentations act only then).
    training: bool = True
    #: Save it as a Sequential model (a chain): a Functional one records the mask an Embedding
    #: with ``mask_zero`` passes on as extra operation nodes.
    sequential: bool = False

    def __str__(self) -> str:
        shown = [f"{i.name}{i.shape}:{i.dtype}" for i in self.inputs]
        shown += [f"{s.name}={s.class_name}({s.arguments}) <- {list(s.inputs)}" for s in self.steps]
        return "\n  ".join(shown)


def _array(spec: Input, batch: int, sizes: dict[str, int], rng: random.Random) -> Any:
    import numpy as np

    shape = [batch] + [
        sizes[f"{spec.name}.{axis}"] if d is None else d for axis, d in enumerate(spec.shape, 1)
    ]
    generator = np.random.default_rng(rng.randint(0, 2**31))
    if spec.kind == "float":
        return (generator.uniform(0, 1, shape) * spec.high).astype(spec.dtype)
    if spec.kind == "int":
        return generator.integers(0, int(spec.high), shape).astype(spec.dtype)
    count = int(np.prod(shape))
    if spec.kind == "text":
        texts = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, int(spec.high)))) for _ in range(count)
        ]
        return np.array(texts, dtype=object).reshape(shape).astype(str)
    values = [rng.choice(spec.choices or WORDS) for _ in range(count)]
    return np.array(values).reshape(shape)


def keras_document(net: Net) -> dict[str, Any]:
    """The Functional config Keras would save for ``net`` (for configs Keras refuses to build)."""
    layers: list[dict[str, Any]] = []
    for spec in net.inputs:
        config = {"name": spec.name, "batch_shape": [None, *spec.shape], "dtype": spec.dtype}
        layers.append({"class_name": "InputLayer", "name": spec.name, "config": config, "inbound_nodes": []})
    for step in net.steps:
        history = [
            {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}}
            for name in step.inputs
        ]
        args = history if len(history) > 1 else history[:1]
        layers.append(
            {
                "class_name": step.class_name,
                "name": step.name,
                "config": {"name": step.name, **json.loads(json.dumps(step.arguments))},
                "inbound_nodes": [{"args": [args] if len(args) > 1 else args, "kwargs": {}}],
            }
        )
    return {
        "class_name": "Functional",
        "config": {
            "name": "net",
            "layers": layers,
            "input_layers": [[spec.name, 0, 0] for spec in net.inputs],
            "output_layers": [[net.steps[-1].name, 0, 0]],
        },
    }


@dataclass
class Real:
    """What Keras built and returned: per layer, its outputs' shapes and its weight counts."""

    outputs: dict[str, list[tuple[int, ...]]]
    params: dict[str, tuple[int, int]]
    env: dict[str, int]
    json_text: str
    archive: bytes | None


def keras_run(net: Net, rng: random.Random, archive: bool = False) -> Real | str:
    """Build ``net`` in Keras and run it on one random batch; the refusal's text if Keras refuses."""
    import keras
    import numpy as np

    keras.backend.clear_session()
    keras.utils.set_random_seed(rng.randint(0, 2**31))
    try:
        tensors: dict[str, Any] = {}
        for spec in net.inputs:
            tensors[spec.name] = keras.Input(spec.shape, dtype=spec.dtype, name=spec.name)
        layers: dict[str, Any] = {}
        for step in net.steps:
            layer = getattr(keras.layers, step.class_name)(name=step.name, **step.arguments)
            if step.adapt is not None:
                layer.adapt(step.adapt)
            layers[step.name] = layer
            given = [tensors[name] for name in step.inputs]
            tensors[step.name] = layer(given if len(given) > 1 else given[0])
        if net.sequential:
            model = keras.Sequential([keras.Input(net.inputs[0].shape, dtype=net.inputs[0].dtype)])
            for step in net.steps:
                model.add(layers[step.name])
        else:
            model = keras.Model([tensors[spec.name] for spec in net.inputs], tensors[net.steps[-1].name])
        batch = rng.randint(1, 3)
        sizes = {
            f"{s.name}.{axis}": rng.randint(6, 12) for s in net.inputs for axis in range(1, len(s.shape) + 1)
        }
        values: dict[str, Any] = {spec.name: _array(spec, batch, sizes, rng) for spec in net.inputs}
        outputs: dict[str, list[tuple[int, ...]]] = {}
        for step in net.steps:
            given = [values[name] for name in step.inputs]
            result = layers[step.name](given if len(given) > 1 else given[0], training=net.training)
            values[step.name] = result
            flat = list(result) if isinstance(result, (list, tuple)) else [result]
            outputs[step.name] = [tuple(int(size) for size in tensor.shape) for tensor in flat]
    except Exception as error:  # Keras refuses with ValueError, TypeError, RuntimeError...
        return f"keras refused: {type(error).__name__}: {' '.join(str(error).split())[:300]}"
    params = {}
    for name, layer in layers.items():
        frozen = sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights)
        params[name] = (int(layer.count_params()), frozen)
    env = {"batch": batch, **_token_lengths(net, values)}
    for spec in net.inputs:
        for axis, size in enumerate(spec.shape, 1):
            if size is None:
                env[f"{spec.name}.{axis}"] = sizes[f"{spec.name}.{axis}"]
    saved = None
    if archive:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "net.keras"
            model.save(path)
            saved = path.read_bytes()
    return Real(outputs, params, env, model.to_json(), saved)


def _token_lengths(net: Net, values: dict[str, Any]) -> dict[str, int]:
    """``tokens``: the longest text's word count, as a whitespace split without a fixed length gives."""
    texts = [values[spec.name] for spec in net.inputs if spec.kind == "text"]
    longest = max((len(str(text).split()) for array in texts for text in array.reshape(-1)), default=0)
    return {"tokens": longest} if longest else {}


def shapecalc_reading(text: bytes, source: str) -> ModelResult | str:
    try:
        result = propagate(parse_model(text, source))
    except ShapecalcError as error:
        return f"shapecalc refused: {error}"
    return result


def _bind(result: ModelResult, net: Net, env: dict[str, int]) -> dict[str, int]:
    """shapecalc's names for the unknown input sizes (``d1``, ``timestep``...) -> the run's sizes."""
    bound = {"batch": env["batch"], **({"tokens": env["tokens"]} if "tokens" in env else {})}
    for spec, shape in zip(net.inputs, result.inputs, strict=True):
        for axis, size in enumerate(shape[1:], 1):
            if isinstance(size, Expr) and len(size.names()) == 1 and str(size) in size.names():
                bound[str(size)] = env[f"{spec.name}.{axis}"]
    return bound


def _reads(net: Net, name: str) -> str:
    return next(step.inputs[0] for step in net.steps if step.name == name)


def _holds(constraint: str, env: dict[str, int]) -> bool:
    from shapecalc import parse_dim

    left, right = constraint.split(" >= ")
    return evaluate(parse_dim(left), env) >= evaluate(parse_dim(right), env)


def mismatches(net: Net, real: Real | str, ours: ModelResult | str) -> list[str]:
    """Every way shapecalc and the real run disagree (empty when they agree, or both refuse)."""
    if isinstance(real, str) or isinstance(ours, str):
        if isinstance(real, str) == isinstance(ours, str):
            return []
        return [real if isinstance(real, str) else f"keras built it, but {ours}"]  # type: ignore[list-item]
    env = _bind(ours, net, real.env)
    broken = [c for c in ours.constraints if not _holds(c, env)]
    if broken:
        return [f"shapecalc's conditions {broken} fail at {env}, but Keras ran it"]
    problems = []
    rows = {row.name: row for row in ours.rows}
    for name, shapes in real.outputs.items():
        if name not in rows:
            # A layer whose symbolic output is its input tensor (Equalization, MaxNumBoundingBoxes)
            # is left out of the saved graph: Keras' model has no such layer.
            assert shapes == real.outputs.get(_reads(net, name), shapes), name
            continue
        row = rows[name]
        got = [tuple(evaluate(size, env) for size in shape) for shape in row.shapes or ()]
        if got != shapes:
            problems.append(f"{name} output: shapecalc {got} ({row.shapes}), keras {shapes}")
        params, frozen = real.params[name]
        counted = (
            evaluate(row.params, env) if row.params is not None else None,
            evaluate(row.non_trainable, env),
        )
        if counted != (params, frozen):
            problems.append(f"{name} (params, non-trainable): shapecalc {counted}, keras {(params, frozen)}")
    return problems


def check_net(net: Net, seed: int, archive: bool = False) -> str:
    """Assert shapecalc agrees with Keras on ``net``; returns ``built`` or ``refused``."""
    real = keras_run(net, random.Random(seed), archive)
    if isinstance(real, str):
        ours = shapecalc_reading(json.dumps(keras_document(net)).encode(), "net.json")
        readings = [ours]
    else:
        readings = [shapecalc_reading(real.json_text.encode(), "net.json")]
        if real.archive is not None:
            readings.append(shapecalc_reading(real.archive, "net.keras"))
    for ours in readings:
        problems = mismatches(net, real, ours)
        assert not problems, f"seed {seed}:\n  {net}\n  " + "\n  ".join(problems)
    return "refused" if isinstance(real, str) else "built"
