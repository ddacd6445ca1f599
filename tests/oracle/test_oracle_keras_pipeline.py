"""``keras.layers.Pipeline`` in model files: seeded random pipelines of shape-changing and
shape-keeping preprocessing layers, saved by real Keras, read by shapecalc; every layer's
output shape is what the model returns on a concrete input, and the counts are Keras' own."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from oracle_support import ORACLE_MARKS, require_frameworks

from shapecalc import evaluate
from shapecalc.model.engine import propagate
from shapecalc.model.reader import parse_model

pytestmark = ORACLE_MARKS


def _stage(keras: Any, rng: random.Random, size: int) -> tuple[Any, int]:
    """One preprocessing layer for images ``size`` pixels square, and the size it leaves."""
    kind = rng.choice(["rescaling", "crop", "resize", "flip", "normalization", "contrast"])
    if kind == "rescaling":
        return keras.layers.Rescaling(rng.choice([0.5, 1 / 255]), offset=rng.choice([0.0, -1.0])), size
    if kind == "crop":
        new = rng.randint(1, size)
        return keras.layers.CenterCrop(new, new), new
    if kind == "resize":
        new = rng.randint(1, 12)
        return keras.layers.Resizing(new, new), new
    if kind == "flip":
        return keras.layers.RandomFlip(rng.choice(["horizontal", "vertical"]), seed=1), size
    if kind == "normalization":
        return keras.layers.Normalization(mean=0.5, variance=2.0), size
    return keras.layers.RandomContrast(0.2, seed=1), size


def _model(keras: Any, seed: int) -> Any:
    rng = random.Random(seed)
    size, channels = rng.randint(4, 10), rng.choice([1, 3])
    stages = []
    current = size
    for _ in range(rng.randint(1, 4)):
        stage, current = _stage(keras, rng, current)
        stages.append(stage)
    inputs = keras.Input((size, size, channels))
    pipeline = keras.layers.Pipeline(stages, name="pipeline")
    x = pipeline(inputs)
    outputs = keras.layers.Dense(rng.randint(1, 4))(keras.layers.Flatten()(x))
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("seed", range(12))
def test_a_pipeline_is_what_keras_returns(seed: int) -> None:
    require_frameworks("torch", "keras")
    import keras
    import numpy as np

    model = _model(keras, seed)
    batch = 2
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:]])
    real = [
        tuple(output.shape)
        for output in probe(np.random.default_rng(seed).uniform(size=(batch, *model.inputs[0].shape[1:])))
    ]
    result = propagate(parse_model(model.to_json().encode(), "m.json"))
    rows = {row.name: row for row in result.rows}
    for layer, shape in zip(model.layers[1:], real, strict=True):
        row = rows[layer.name]
        assert row.shapes is not None and len(row.shapes) == 1, layer.name
        assert tuple(evaluate(size, {"batch": batch}) for size in row.shapes[0]) == shape, layer.name
    assert rows["pipeline"].class_name == "Pipeline"
    assert evaluate(result.params, {}) == model.count_params()
    non_trainable = sum(int(np.prod(weight.shape)) for weight in model.non_trainable_weights)
    assert evaluate(result.non_trainable, {}) == non_trainable
    assert json.loads(model.to_json())["config"]["layers"][1]["class_name"] == "Pipeline"
