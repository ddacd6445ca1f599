"""The rule table: one shape rule per layer configuration type.

>>> from shapecalc.configs import RecurrentConfig
>>> derive(RecurrentConfig(cell="gru", units=8, input_dim=4)).layer
'GRU'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shapecalc.configs import (
    ConvRecurrentConfig,
    LayerConfig,
    OnnxRecurrentConfig,
    RecurrentConfig,
    TorchRecurrentConfig,
)
from shapecalc.costs import layer_costs
from shapecalc.dims import MAX_INT, Dim, largest_number
from shapecalc.errors import ShapecalcError, shown
from shapecalc.record import replace
from shapecalc.result import LayerResult
from shapecalc.rules.keras import keras_conv_recurrent, keras_recurrent
from shapecalc.rules.onnx import onnx_recurrent
from shapecalc.rules.torch import torch_recurrent

RULES: dict[type, Callable[[Any], LayerResult]] = {
    RecurrentConfig: keras_recurrent,
    ConvRecurrentConfig: keras_conv_recurrent,
    TorchRecurrentConfig: torch_recurrent,
    OnnxRecurrentConfig: onnx_recurrent,
}


def derive(config: LayerConfig, *, dtype: str = "float32", explain: bool = False) -> LayerResult:
    """Every tensor shape of the layer ``config`` describes, with its costs in ``dtype``.

    ``explain`` adds the per-timestep equations (:mod:`shapecalc.explain`).
    """
    rule = RULES.get(type(config))
    if rule is None:
        # Every config type the API builds has a rule: a missing one is a bug, not bad input.
        raise TypeError(f"no shape rule for {type(config).__name__}")
    result = _bounded(rule(config))
    result = replace(result, costs=layer_costs(result, config, dtype))
    if explain:
        from shapecalc.explain import explain_layer  # only --explain and HTML need it (start-up speed)

        result = replace(result, explanation=explain_layer(result, config))
    return result


def _bounded(result: LayerResult) -> LayerResult:
    """``result``, unless a size or count overflowed int64 (plain int products are not folded)."""
    checked: set[int] = set()  # ids of sizes already checked: tensors share their size objects
    for tensor in result.tensors:
        for size in (*tensor.shape, tensor.params):
            if isinstance(size, int):  # most sizes: nothing to remember
                if -MAX_INT <= size <= MAX_INT:
                    continue
                raise _too_large(tensor.name, size)
            if id(size) not in checked:
                checked.add(id(size))
                if largest_number(size) > MAX_INT:
                    raise _too_large(tensor.name, size)
    if largest_number(result.params) > MAX_INT:
        raise _too_large("params", result.params)
    return result


def _too_large(what: str, size: Dim) -> ShapecalcError:
    text = shown(size) if isinstance(size, int) else shown(str(size))
    return ShapecalcError(f"{what}: {text} is too large (sizes stop at {MAX_INT})")
