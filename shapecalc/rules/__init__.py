"""The rule table: one shape rule per layer configuration type.

>>> from shapecalc.configs import RecurrentConfig
>>> derive(RecurrentConfig(cell="gru", units=8, input_dim=4)).layer
'GRU'
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
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

#: Config type -> the module and function of its rule. A module loads when its first config
#: comes (start-up speed: a run derives one convention, not three).
RULES: dict[type, tuple[str, str]] = {
    RecurrentConfig: ("shapecalc.rules.keras", "keras_recurrent"),
    ConvRecurrentConfig: ("shapecalc.rules.keras", "keras_conv_recurrent"),
    TorchRecurrentConfig: ("shapecalc.rules.torch", "torch_recurrent"),
    OnnxRecurrentConfig: ("shapecalc.rules.onnx", "onnx_recurrent"),
}
_LOADED: dict[type, Callable[[Any], LayerResult]] = {}


def rule_for(config_type: type) -> Callable[[Any], LayerResult]:
    """The shape rule of ``config_type``; ``TypeError`` for a type without one (a bug, not bad input).

    >>> rule_for(RecurrentConfig).__name__
    'keras_recurrent'
    """
    rule = _LOADED.get(config_type)
    if rule is None:
        if config_type not in RULES:
            raise TypeError(f"no shape rule for {config_type.__name__}")
        module, name = RULES[config_type]
        rule = _LOADED[config_type] = getattr(import_module(module), name)
    return rule


def derive(config: LayerConfig, *, dtype: str = "float32", explain: bool = False) -> LayerResult:
    """Every tensor shape of the layer ``config`` describes, with its costs in ``dtype``.

    ``explain`` adds the per-timestep equations (:mod:`shapecalc.explain`).
    """
    result = _bounded(rule_for(type(config))(config))
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
