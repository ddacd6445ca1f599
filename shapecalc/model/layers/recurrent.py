"""The recurrent family in a model: ``LSTM``, ``GRU``, ``SimpleRNN``, ``ConvLSTM1D/2D/3D`` and
``Bidirectional(...)``, derived by the single-layer engine (:func:`shapecalc.api.build_config`).

The layer's input supplies ``batch``, ``timesteps`` and ``input_dim`` (or the
ConvLSTM frame); the result's ``outputs`` are the layer's outputs, in Keras' order.

>>> from shapecalc.dims import sym
>>> call = LayerCall(((sym("batch"), 10, 20),))
>>> options = RULES[0].options.model_validate({"units": 32, "return_state": True})
>>> out = RULES[0].apply(options, call)
>>> out.shapes, out.params
(((Expr('batch'), 32), (Expr('batch'), 32), (Expr('batch'), 32)), 6784)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, Field, PlainValidator, create_model

from shapecalc.api import build_config, layer_kind
from shapecalc.configs import SHAPELESS, LayerConfig
from shapecalc.convert import to_size
from shapecalc.dims import format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, require_rank, same_size
from shapecalc.model.options import Options, weight_settings
from shapecalc.options import layer_options
from shapecalc.result import LayerResult
from shapecalc.rules import derive

#: Keras class -> the layer kind :func:`build_config` knows.
KINDS = {
    "LSTM": "lstm",
    "GRU": "gru",
    "SimpleRNN": "rnn",
    "ConvLSTM1D": "convlstm1d",
    "ConvLSTM2D": "convlstm2d",
    "ConvLSTM3D": "convlstm3d",
}


#: Option-table keys a layer in a model never takes: its input supplies the batch, the
#: sequence length and the frame; the answer's format belongs to the command.
_FROM_THE_INPUT = frozenset(
    {"batch", "timesteps", "input_shape", "framework", "dtype", "explain", "cell", "rank"}
)


def _frozen(value: Any) -> Any:
    """``value`` as given, with lists as tuples: layer options are hashed to memoise the rule."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple((key, _frozen(item)) for key, item in value.items())
    return value


#: An option value as written; the option table's conversions check it.
AsGiven = Annotated[Any, PlainValidator(_frozen)]


def table_schema(kind: str) -> type[Options]:
    """The options of Keras class ``kind`` (``lstm``, ``convlstm2d``) in a model file, from the option
    table: every key and alias it has, as given; :func:`shapecalc.api.build_config` converts and
    checks them, so a mistake reads as it does on the command line and in batch mode.

    >>> sorted(table_schema("gru").model_fields)[:4]
    ['bidirectional', 'input_dim', 'merge_mode', 'no_bias']
    """
    layer = layer_kind(kind)
    fields: dict[str, Any] = {}
    for option in layer_options(layer):
        if option.key in _FROM_THE_INPUT or option.key in SHAPELESS or not option.applies_to(layer, "keras"):
            continue
        fields[option.key] = (AsGiven, Field(None, validation_alias=AliasChoices(*option.keys)))
        if option.negation:
            fields[option.negation] = (AsGiven, None)
    return create_model(f"{layer.name.title()}Options", __base__=Options, **fields)


#: Each class's Keras arguments that cannot change a shape or a count (initial values, training
#: behaviour, execution), accepted and listed as ignored.
_RECURRENT_INERT = weight_settings("kernel", "recurrent", "bias") | {
    "activation",
    "dropout",
    "recurrent_dropout",
    "seed",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
}
_GATED_INERT = _RECURRENT_INERT | {"recurrent_activation"}
INERT = {
    "SimpleRNN": _RECURRENT_INERT,
    "GRU": _GATED_INERT | {"use_cudnn", "implementation"},
    "LSTM": _GATED_INERT | {"unit_forget_bias", "use_cudnn", "implementation"},
    **{f"ConvLSTM{rank}D": _GATED_INERT | {"unit_forget_bias"} for rank in (1, 2, 3)},
    "Bidirectional": frozenset({"weights"}),
}


@lru_cache(maxsize=4096)
def _derive(config: LayerConfig) -> LayerResult:
    # Deep stacks repeat the same layer on the same input: derive each config once.
    return derive(config)


def run_recurrent(kind: str, options: Options, call: LayerCall, **extra: Any) -> LayerOutput:
    """Derive one recurrent layer on its input and check the initial states it is given."""
    sequence, states = _sequence_and_states(call)
    rank = layer_kind(kind).rank
    if not rank:
        require_rank(sequence, 3, "(batch, timesteps, features)")
    else:
        require_rank(sequence, rank + 3, "(batch, timesteps, *frame)")
    given = {name: getattr(options, name) for name in options.model_fields_set - {"input_dim"}}
    given.update(extra, batch=sequence[0], timesteps=sequence[1])
    if not rank:
        given["input_dim"] = _input_dim(options, sequence)
    else:
        given["input_shape"] = sequence[2:]
    result = _derive(build_config(kind, given))
    shapes = tuple(result.tensor(name).shape for name in result.outputs)
    constraints = list(result.constraints) + _check_states(result, states)
    # MACs come from shapecalc.costs, which derive() attaches to the result.
    costs = getattr(result, "costs", None)
    return LayerOutput(
        shapes,
        result.params,
        macs=None if costs is None else costs.macs,
        flops=None if costs is None else costs.flops,
        activations=(0, 0) if costs is None else (costs.step_elements, costs.sequence_elements),
        detail=result,
        constraints=tuple(constraints),
        class_name=result.layer,
    )


def _sequence_and_states(call: LayerCall) -> tuple[Shape, tuple[Shape, ...]]:
    """The input sequence, and initial states given as ``initial_state`` or as extra inputs."""
    if not call.inputs:
        raise ShapecalcError("takes one input sequence, got none")
    states = call.initial_state or call.inputs[1:]
    if call.initial_state and len(call.inputs) > 1:
        raise ShapecalcError(f"takes one input sequence, got {len(call.inputs)}")
    return call.inputs[0], states


def _input_dim(options: Options, sequence: Shape) -> Any:
    features = sequence[2]
    stated = getattr(options, "input_dim", None)
    if stated is not None:
        stated = to_size(stated, "input_dim")
        same_size(stated, features, f"input_dim is {stated} but the input is {format_shape(sequence)}")
    return features


def _check_states(result: LayerResult, states: tuple[Shape, ...]) -> list[str]:
    if not states:
        return []
    expected = [t.shape for t in result.tensors if t.role == "state"]
    if len(states) != len(expected):
        raise ShapecalcError(
            f"takes {len(expected)} initial states {', '.join(format_shape(s) for s in expected)}, "
            f"got {len(states)}",
            option="initial_state",
        )
    conditions = []
    for number, (got, want) in enumerate(zip(states, expected, strict=True), 1):
        problem = ShapecalcError(
            f"{number} must be {format_shape(want)}, got {format_shape(got)}", option="initial_state"
        )
        if len(got) != len(want):
            raise problem
        for have, need in zip(got, want, strict=True):
            try:
                _, condition = same_size(have, need, "")
            except ShapecalcError:
                raise problem from None
            if condition:
                conditions.append(condition)
    return conditions


def recurrent_rule(class_name: str) -> Rule:
    kind = KINDS[class_name]

    def apply(options: Options, call: LayerCall) -> LayerOutput:
        return run_recurrent(kind, options, call)

    return Rule(class_name, apply, table_schema(kind), inert=INERT[class_name])


class BidirectionalOptions(Options):
    merge_mode: str | None = "concat"


def bidirectional(options: BidirectionalOptions, call: LayerCall) -> LayerOutput:
    """``Bidirectional(layer)``: the wrapped recurrent layer with ``bidirectional`` set."""
    inner = call.inner
    if isinstance(inner, LayerSpec) and inner.class_name not in KINDS:
        raise ShapecalcError(f"wraps a recurrent layer, got {inner.class_name}", option="layer")
    if isinstance(inner, ModelGraph):
        raise ShapecalcError(f"wraps a recurrent layer, got a {inner.class_name} model", option="layer")
    merge_mode = options.merge_mode or "none"
    return call.run_inner(call.inputs, call.initial_state, bidirectional=True, merge_mode=merge_mode)


RULES = (
    *(recurrent_rule(class_name) for class_name in KINDS),
    Rule("Bidirectional", bidirectional, BidirectionalOptions, inert=INERT["Bidirectional"]),
)
