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

from dataclasses import replace
from functools import cache, lru_cache

from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers import conv, core, merge, recurrent, wrappers
from shapecalc.model.layers.base import LayerCall, LayerOutput, LocatedError, Rule
from shapecalc.model.options import Options, validate

#: Keras classes that hold a whole model; they run through the engine.
MODEL_CLASSES = ("Sequential", "Functional", "Model")
#: Extra names shapecalc's own files accept, as the layer commands spell them.
OWN_ALIASES = {"rnn": "SimpleRNN", "convlstm": "ConvLSTM2D"}


def _key(name: str) -> str:
    return name.replace("_", "").lower()


RULES: dict[str, Rule] = {
    _key(name): rule
    for rule in (*core.RULES, *merge.RULES, *conv.RULES, *recurrent.RULES, *wrappers.RULES)
    for name in (rule.class_name, *rule.aliases)
}


class UnknownLayerError(ShapecalcError):
    """A layer class shapecalc has no rule for (``--skip-unknown`` turns it into a row marked unknown)."""

    def __init__(self, class_name: str) -> None:
        super().__init__(
            f"unknown layer class {class_name!r}: shapecalc has no shape rule for it "
            "(use --skip-unknown to list it and go on)"
        )
        self.class_name = class_name


def supported_classes() -> list[str]:
    """Every layer class name shapecalc reads, sorted."""
    names = {rule.class_name for rule in RULES.values()} | set(MODEL_CLASSES) | {"InputLayer"}
    return sorted(names, key=str.lower)


@cache
def find_rule(class_name: str, own_format: bool = False) -> Rule | None:
    if own_format:
        class_name = OWN_ALIASES.get(_key(class_name), class_name)
    return RULES.get(_key(class_name))


def run_layer(spec: LayerSpec, call: LayerCall) -> LayerOutput:
    """Validate ``spec``'s options and apply its rule to ``call``."""
    if isinstance(spec.inner, ModelGraph):
        from shapecalc.model.engine import run_nested

        return run_nested(spec.inner, call.inputs)
    rule = find_rule(spec.class_name)
    if rule is None:
        raise UnknownLayerError(spec.class_name)
    options = validate(rule.options, spec.options, rule.class_name)
    if spec.inner is None:
        return _apply(rule, options, call.inputs, call.initial_state)
    return rule.apply(options, LayerCall(call.inputs, call.initial_state, spec.inner))


@lru_cache(maxsize=8192)
def _apply(rule: Rule, options: Options, inputs: tuple[Shape, ...], states: tuple[Shape, ...]) -> LayerOutput:
    # Rules are pure: deep stacks repeat the same layer on the same shapes, so each pair runs once.
    return rule.apply(options, LayerCall(inputs, states))


def inner_rule(call: LayerCall) -> tuple[Rule, Options]:
    """The rule and validated options of the layer a wrapper holds."""
    spec = call.inner
    if not isinstance(spec, LayerSpec):
        raise ShapecalcError("needs the layer it wraps", option="layer")
    rule = find_rule(spec.class_name)
    if rule is None:
        raise UnknownLayerError(spec.class_name)
    try:
        return rule, validate(rule.options, spec.options, rule.class_name)
    except ShapecalcError as error:
        raise _in_wrapped(error) from None


def run_inner(call: LayerCall, shape: Shape) -> LayerOutput:
    """Run the layer (or model) a wrapper holds on ``shape``."""
    if call.inner is None:
        raise ShapecalcError("needs the layer it wraps", option="layer")
    spec = call.inner if isinstance(call.inner, LayerSpec) else LayerSpec("Model", {}, call.inner)
    try:
        output = run_layer(spec, LayerCall((shape,)))
    except (UnknownLayerError, LocatedError):
        raise
    except ShapecalcError as error:
        raise _in_wrapped(error) from None
    return output if output.class_name else replace(output, class_name=spec.class_name)


def _in_wrapped(error: ShapecalcError) -> ShapecalcError:
    """An error of the wrapped layer, attributed to the wrapper's ``layer`` option."""
    return ShapecalcError(error.message, option=f"layer.{error.option}" if error.option else "layer")
