"""The rule table: layer class name -> shape rule, and the one way to run a layer.

Keras' class names are the keys, matched without case or underscores
(``max_pooling2d`` finds ``MaxPooling2D``); shapecalc's own files may also say
``rnn`` and ``convlstm``, as the commands do.

>>> find_rule("max_pooling2d").class_name
'MaxPooling2D'
>>> find_rule("convlstm", own_format=True).class_name
'ConvLSTM2D'
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers import (
    attention,
    audio,
    conv,
    core,
    einsum,
    merge,
    ops,
    preprocessing,
    recurrent,
    rnn_cells,
    wrappers,
)
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, RunLayer, UnknownLayerError
from shapecalc.model.options import Options, split_options, validate

#: Keras classes that hold a whole model; they run through the engine.
MODEL_CLASSES = ("Sequential", "Functional", "Model", "Pipeline")
#: The option that holds a wrapper's layer, where it is not ``layer``: an RNN holds a cell.
HELD_KEYS = {"RNN": "cell"}
#: Extra names shapecalc's own files accept, as the layer commands spell them.
OWN_ALIASES = {"rnn": "SimpleRNN", "convlstm": "ConvLSTM2D"}


def _key(name: str) -> str:
    return name.replace("_", "").lower()


#: The families of layer classes, each a module of rules.
FAMILIES = {
    "core": core,
    "merge": merge,
    "conv": conv,
    "recurrent": recurrent,
    "rnn cells": rnn_cells,
    "wrappers": wrappers,
    "attention": attention,
    "einsum": einsum,
    "ops": ops,
    "preprocessing": preprocessing,
    "audio": audio,
}
RULES: dict[str, Rule] = {
    _key(name): rule
    for family in FAMILIES.values()
    for rule in family.RULES
    for name in (rule.class_name, *rule.aliases)
}


def known_classes() -> list[tuple[str, tuple[str, ...], str]]:
    """Every layer class model files may name: ``(class, other names, family)``, by class name.

    >>> [row for row in known_classes() if row[0] == "SimpleRNN"]
    [('SimpleRNN', ('rnn',), 'recurrent')]
    """
    own = {target: alias for alias, target in OWN_ALIASES.items()}
    rows = [
        (
            rule.class_name,
            (*rule.aliases, *([own[rule.class_name]] if rule.class_name in own else [])),
            rule.family or name,
        )
        for name, family in FAMILIES.items()
        for rule in family.RULES
    ]
    rows += [("InputLayer", (), "model"), *((name, (), "model") for name in MODEL_CLASSES)]
    return sorted(rows, key=lambda row: row[0].lower())


@cache
def find_rule(class_name: str, own_format: bool = False) -> Rule | None:
    if own_format:
        class_name = OWN_ALIASES.get(_key(class_name), class_name)
    return RULES.get(_key(class_name))


def layer_spec(
    class_name: str,
    options: Mapping[str, Any],
    inner: LayerSpec | ModelGraph | None = None,
    *,
    own_format: bool = False,
) -> LayerSpec:
    """A layer as the engine runs it: its class as shapecalc spells it, its options with the
    inert ones set aside (unknown ones stay, for its rule to refuse).

    >>> layer_spec("dense", {"units": 4, "activation": "relu", "unitz": 1})
    LayerSpec(class_name='Dense', options={'units': 4, 'unitz': 1}, inner=None, ignored=('activation',))
    """
    rule = find_rule(class_name, own_format)
    if rule is None:
        return LayerSpec(class_name, dict(options), inner)
    kept, ignored = split_options(options, rule.ignored)
    return LayerSpec(rule.class_name, kept, inner, ignored)


def run_layer(spec: LayerSpec, call: LayerCall, run: RunLayer) -> LayerOutput:
    """Validate ``spec``'s options and apply its rule to ``call``; a wrapper gets ``run`` to run
    the layer it holds (the engine's runner, which also runs nested models)."""
    rule = find_rule(spec.class_name)
    if rule is None:
        raise UnknownLayerError(spec.class_name)
    options = validate(rule.options, spec.options, rule.class_name, rule.known)
    if spec.inner is None:
        return _apply(rule, options, call.inputs, call.initial_state)
    inner = spec.inner
    if isinstance(inner, LayerSpec) and inner.inner is None and find_rule(inner.class_name) is None:
        raise UnknownLayerError(inner.class_name)
    return rule.apply(options, LayerCall(call.inputs, call.initial_state, spec.inner, run))


@lru_cache(maxsize=8192)
def _apply(rule: Rule, options: Options, inputs: tuple[Shape, ...], states: tuple[Shape, ...]) -> LayerOutput:
    # Rules are pure: deep stacks repeat the same layer on the same shapes, so each pair runs once.
    return rule.apply(options, LayerCall(inputs, states))
