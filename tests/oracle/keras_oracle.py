"""Build a real Keras 3 layer for a case and read off every shape shapecalc claims.

Keras is imported inside the functions, after ``require_oracle`` has run, so
collecting the tests never needs it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from oracle_support import Built, Case, dim_value

os.environ.setdefault("KERAS_BACKEND", "torch")

STATE_NAMES = ("hidden_state", "cell_state")


def keras_name(path: str) -> str:
    """``bidirectional_3/forward_lstm_3/lstm_cell/kernel`` -> ``forward/kernel``."""
    parts = path.split("/")
    for part in parts[:-1]:
        for direction in ("forward", "backward"):
            if part.startswith(f"{direction}_"):
                return f"{direction}/{parts[-1]}"
    return parts[-1]


def _flat(outputs: Any) -> list[Any]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _shape(tensor: Any) -> tuple[Any, ...]:
    return tuple(None if size is None else int(size) for size in tensor.shape)


def sequence_runs(case: Case) -> list[tuple[int, int]]:
    """(batch, timesteps) of each real run."""
    batch, steps = case.options.get("batch", "batch"), case.options.get("timesteps", "timestep")
    return [(dim_value(batch, run), dim_value(steps, run)) for run in case.runs]


def wrap(layer: Any, bidirectional: bool, merge_mode: str) -> Any:
    """``layer``, or ``Bidirectional(layer)`` merged as shapecalc's ``merge_mode`` says."""
    import keras

    if not bidirectional:
        return layer
    return keras.layers.Bidirectional(layer, merge_mode=None if merge_mode == "none" else merge_mode)


def keras_build(case: Case, make_layer: Callable[[], Any], frame: tuple[int, ...]) -> Built:
    """Build ``make_layer()`` on ``(batch, timesteps, *frame)`` inputs, symbolic then real."""
    import keras
    import numpy as np

    runs = sequence_runs(case)
    batch = None if "batch" not in case.options or isinstance(case.options["batch"], str) else runs[0][0]
    steps = (
        None if "timesteps" not in case.options or isinstance(case.options["timesteps"], str) else runs[0][1]
    )
    layer = make_layer()
    symbolic = [_shape(t) for t in _flat(layer(keras.Input(shape=(steps, *frame), batch_size=batch)))]
    weights = {keras_name(w.path): tuple(int(s) for s in w.shape) for w in layer.weights}
    arrays = {keras_name(w.path): keras.ops.convert_to_numpy(w.value) for w in layer.weights}
    random = np.random.default_rng(0)
    inputs = [random.standard_normal((b, t, *frame)).astype("float32") for b, t in runs]
    run_outputs = [[_shape(t) for t in _flat(layer(x))] for x in inputs]
    return Built(
        weights=weights,
        arrays=arrays,
        params=int(layer.count_params()),
        symbolic_outputs=symbolic,
        run_outputs=run_outputs,
        states=_cell_states(layer, inputs[0]),
        input_shape=inputs[0].shape,
    )


def _cell_states(layer: Any, inputs: Any) -> dict[str, tuple[int, ...]]:
    """The states one step of each direction's cell returns, by shapecalc name."""
    if hasattr(layer, "forward_layer"):
        cells = {"forward/": layer.forward_layer.cell, "backward/": layer.backward_layer.cell}
    else:
        cells = {"": layer.cell}
    states = {}
    for prefix, cell in cells.items():
        initial = cell.get_initial_state(batch_size=inputs.shape[0])
        _, new = cell(inputs[:, 0], initial)
        for name, state in zip(STATE_NAMES, _flat(new), strict=False):
            states[prefix + name] = _shape(state)
    return states
