"""The recurrent family in a model: ``LSTM``, ``GRU``, ``SimpleRNN``, ``ConvLSTM1D/2D/3D`` and
``Bidirectional(...)``, derived by the single-layer engine (:func:`shapecalc.api.build_config`).

The layer's input supplies ``batch``, ``timesteps`` and ``input_dim`` (or the
ConvLSTM frame); the result's ``outputs`` are the layer's outputs, in Keras' order.

>>> from shapecalc.dims import sym
>>> call = LayerCall(((sym("batch"), 10, 20),))
>>> out = RULES[0].apply(RecurrentOptions(units=32, return_state=True), call)
>>> out.shapes, out.params
(((Expr('batch'), 32), (Expr('batch'), 32), (Expr('batch'), 32)), 6784)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import Field

from shapecalc.api import LAYER_KINDS, build_config
from shapecalc.configs import LayerConfig
from shapecalc.dims import format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, require_rank, same_size
from shapecalc.model.options import Counts, Flag, Options, Size, Sizes, aliases, weight_settings
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


class SequenceOptions(Options):
    return_sequences: Flag = False
    return_state: Flag = False
    use_bias: Flag = True
    bidirectional: Flag = False
    merge_mode: str | None = None


class RecurrentOptions(SequenceOptions):
    units: Size
    input_dim: Size | None = None


class GRUOptions(RecurrentOptions):
    reset_after: Flag = True


class ConvRecurrentOptions(SequenceOptions):
    filters: Size
    kernel: Sizes = Field(validation_alias=aliases("kernel", "kernel_size"))
    strides: Counts | None = None
    padding: str | None = None
    dilation: Sizes | None = Field(None, validation_alias=aliases("dilation", "dilation_rate"))
    data_format: str | None = None


#: Each class's Keras arguments that cannot change a shape or a count (initial values, training
#: behaviour, execution), ignored. Kept apart from the schemas above so they merge with a later
#: generated option table.
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


def run_recurrent(kind: str, options: SequenceOptions, call: LayerCall, **extra: Any) -> LayerOutput:
    """Derive one recurrent layer on its input and check the initial states it is given."""
    sequence, states = _sequence_and_states(call)
    target = LAYER_KINDS[kind]
    if isinstance(target, str):
        require_rank(sequence, 3, "(batch, timesteps, features)")
    else:
        require_rank(sequence, target + 3, "(batch, timesteps, *frame)")
    given: dict[str, Any] = {}
    for name in options.model_fields_set - {"input_dim"}:
        value = getattr(options, name)
        given[name] = value[0] if isinstance(value, tuple) and len(value) == 1 else value
    given.update(extra, batch=sequence[0], timesteps=sequence[1])
    if isinstance(target, str):
        given["input_dim"] = _input_dim(options, sequence)
    else:
        given["input"] = sequence[2:]
    result = _derive(build_config(kind, given))
    shapes = tuple(result.tensor(name).shape for name in result.outputs)
    constraints = list(result.constraints) + _check_states(result, states)
    # MACs come from shapecalc.costs, which derive() attaches to the result.
    costs = getattr(result, "costs", None)
    return LayerOutput(
        shapes,
        result.params,
        macs=None if costs is None else costs.macs,
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


def _input_dim(options: SequenceOptions, sequence: Shape) -> Any:
    features = sequence[2]
    stated = getattr(options, "input_dim", None)
    if stated is not None:
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


def recurrent_rule(class_name: str, schema: type[SequenceOptions]) -> Rule:
    kind = KINDS[class_name]

    def apply(options: SequenceOptions, call: LayerCall) -> LayerOutput:
        return run_recurrent(kind, options, call)

    return Rule(class_name, apply, schema, inert=INERT[class_name])


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
    recurrent_rule("LSTM", RecurrentOptions),
    recurrent_rule("GRU", GRUOptions),
    recurrent_rule("SimpleRNN", RecurrentOptions),
    *(recurrent_rule(f"ConvLSTM{rank}D", ConvRecurrentOptions) for rank in (1, 2, 3)),
    Rule("Bidirectional", bidirectional, BidirectionalOptions, inert=INERT["Bidirectional"]),
)
