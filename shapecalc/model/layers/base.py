"""What every layer rule takes and returns, and the shape checks they share.

>>> from shapecalc.dims import sym
>>> format_shape((sym("batch"), 32))
'(batch, 32)'
>>> flat_size((sym("batch"), 4, 5), start=1)
20
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import LayerSpec, ModelGraph, Shape
from shapecalc.model.layers.unknowable import reason
from shapecalc.model.options import LAYER_ARGUMENTS, Options, accepted_keys
from shapecalc.result import LayerResult


class LocatedError(ShapecalcError):
    """An error placed in a file (``where``: the file and the layer); wrappers pass it on unchanged.

    The key reads as the subject of the reason, as a file's reader sees it:

    >>> str(LocatedError("must be a positive integer, got 0", "units", where="m.yaml: layer 1 'lstm'"))
    "m.yaml: layer 1 'lstm': units must be a positive integer, got 0"
    """

    def __str__(self) -> str:
        repeated = self.option and self.message.startswith(f"{self.option} ")
        text = f"{self.option} {self.message}" if self.option and not repeated else self.message
        return f"{self.where}: {text}" if self.where else text


class UnknownLayerError(ShapecalcError):
    """A layer class shapecalc has no rule for (``--skip-unknown`` turns it into a row marked unknown);
    the reason is its line in :mod:`.unknowable`, and ``others`` names the model's other unknown classes.

    >>> print(UnknownLayerError("Lambda").message)  # doctest: +ELLIPSIS
    unknown layer class 'Lambda': runs Python code, ... (use --skip-unknown to list it and go on)
    """

    def __init__(self, class_name: str, others: str = "") -> None:
        also = f"; {others} (use --skip-unknown to list them and go on)" if others else ""
        hint = also or " (use --skip-unknown to list it and go on)"
        super().__init__(f"unknown layer class {shown(class_name)}: {reason(class_name)}{hint}")
        self.class_name = class_name


#: Runs any layer (a nested model too) on a call. The engine hands its runner down with each
#: call, so a wrapper can run the layer it holds without importing the engine or the registry.
RunLayer = Callable[[LayerSpec, "LayerCall"], "LayerOutput"]


@dataclass(frozen=True)
class LayerCall:
    """The shapes one call of a layer receives (batch axis first); a wrapper's also holds its
    ``inner`` layer and the ``run`` that runs it."""

    inputs: tuple[Shape, ...]
    initial_state: tuple[Shape, ...] = ()
    inner: LayerSpec | ModelGraph | None = None
    run: RunLayer | None = field(default=None, compare=False)

    def single(self) -> Shape:
        """The one input of a layer that takes exactly one."""
        if len(self.inputs) != 1:
            raise ShapecalcError(f"takes one input, got {len(self.inputs)}")
        return self.inputs[0]

    def run_inner(
        self, inputs: tuple[Shape, ...], initial_state: tuple[Shape, ...] = (), **options: Any
    ) -> LayerOutput:
        """Run the layer (or model) a wrapper holds, with ``options`` added to its own; its errors
        name the wrapper's ``layer`` option (``layer.units must be ...``)."""
        if self.inner is None or self.run is None:
            raise ShapecalcError("needs the layer it wraps", option="layer")
        spec = self.inner if isinstance(self.inner, LayerSpec) else LayerSpec("Model", {}, self.inner)
        if options:
            spec = replace(spec, options={**spec.options, **options})
        return self.run_held(spec, inputs, initial_state, "layer")

    def run_held(
        self, spec: LayerSpec, inputs: tuple[Shape, ...], initial_state: tuple[Shape, ...], option: str
    ) -> LayerOutput:
        """Run ``spec``, a layer this one holds under its ``option`` (``layer``, ``backward_layer``);
        its errors name that option (``backward_layer.units must be ...``)."""
        if self.run is None:
            raise ShapecalcError("needs the layer it wraps", option=option)
        try:
            output = self.run(spec, LayerCall(inputs, initial_state, run=self.run))
        except (UnknownLayerError, LocatedError):
            raise
        except ShapecalcError as error:
            named = f"{option}.{error.option}" if error.option else option
            raise ShapecalcError(error.message, option=named) from None
        return output if output.class_name else replace(output, class_name=spec.class_name)


@dataclass(frozen=True)
class LayerOutput:
    """What a rule derives: output shapes, parameter counts and MACs (``None``: not counted)."""

    shapes: tuple[Shape, ...]
    params: Dim = 0
    non_trainable: Dim = 0
    macs: Dim | None = 0
    detail: LayerResult | None = None
    constraints: tuple[str, ...] = ()
    class_name: str | None = None
    #: FLOPs when the rule counts them itself (recurrent layers); ``None``: two per MAC.
    flops: Dim | None = None
    #: Activation elements the layer keeps for training: one time step's, the whole sequence's.
    activations: tuple[Dim, Dim] = (0, 0)


@dataclass(frozen=True)
class Rule:
    """One layer class: its Keras name, its option schema, its shape rule, and ``inert``: the
    class's Keras arguments that cannot change a shape or a count, accepted and ignored.

    >>> same = lambda options, call: LayerOutput(call.inputs)
    >>> rule = Rule("Dropout", same, Options, inert=frozenset({"rate"}))
    >>> "rate" in rule.ignored, "name" in rule.ignored, "units" in rule.known
    (True, True, False)
    """

    class_name: str
    apply: Callable[[Any, LayerCall], LayerOutput]
    options: type[Options]
    aliases: tuple[str, ...] = ()
    inert: frozenset[str] = frozenset()
    #: The call's tensor arguments by name, in the order the rule takes its inputs
    #: (``("query", "value", "key")``): a Keras file may pass any of them as a keyword.
    call_tensors: tuple[str, ...] = ()
    #: Call arguments that change a shape (``return_attention_scores``, ``reverse``): options of
    #: the rule, given per call in a Keras file, as a layer's option in shapecalc's own.
    call_options: frozenset[str] = frozenset()
    #: The family ``shapecalc layers`` shows, when not its module's (a cell: ``cell, inside RNN``).
    family: str = ""

    @cached_property
    def ignored(self) -> frozenset[str]:
        """The arguments set aside: the class's inert ones and every layer's, less those read."""
        return (self.inert | LAYER_ARGUMENTS) - accepted_keys(self.options)

    @cached_property
    def known(self) -> frozenset[str]:
        """Every argument the class takes: read or ignored."""
        return accepted_keys(self.options) | self.inert | LAYER_ARGUMENTS


def require_rank(shape: Shape, rank: int, layout: str) -> None:
    """Refuse an input of the wrong rank, showing the layout the layer expects."""
    if len(shape) != rank:
        raise ShapecalcError(f"expects a {rank}-D input {layout}, got {format_shape(shape)}")


def require_min_rank(shape: Shape, rank: int, layout: str) -> None:
    if len(shape) < rank:
        raise ShapecalcError(
            f"expects an input of at least {rank} dimensions {layout}, got {format_shape(shape)}"
        )


def flat_size(shape: Shape, start: int = 0) -> Dim:
    """The product of ``shape[start:]`` (plain ints multiplied first: symbolic products cost more)."""
    sizes = shape[start:]
    total: Dim = math.prod(size for size in sizes if isinstance(size, int))
    for size in sizes:
        if not isinstance(size, int):
            total = size * total
    return total


def axis_index(axis: int, rank: int, option: str = "axis") -> int:
    """A possibly negative ``axis`` as an index into a shape of ``rank``; the batch axis is refused."""
    index = axis + rank if axis < 0 else axis
    if not 1 <= index < rank:
        raise ShapecalcError(f"must name a non-batch axis of a {rank}-D input, got {axis}", option=option)
    return index


def same_size(left: Dim, right: Dim, what: str) -> tuple[Dim, str | None]:
    """Check two sizes that must agree: equal ints pass, different ints fail, symbols give a condition."""
    if left == right:
        return left, None
    if isinstance(left, int) and isinstance(right, int):
        raise ShapecalcError(f"{what}: {left} != {right}")
    return left, f"{left} == {right}"
