"""Contractions: ``EinsumDense`` (from its equation), ``Dot``, ``ReversibleEmbedding``, and the
``SpectralNormalization`` wrapper of a layer with a kernel; LoRA's adapters.

Shapes are what the layer returns (``keras.ops.einsum`` of the input and the kernel), which is
not always what Keras' ``compute_output_shape`` says: with an ellipsis over two leading axes
that method lists them in reverse.

>>> from shapecalc.dims import sym
>>> b = sym("batch")
>>> out = einsum_dense(EinsumDenseOptions(equation="abc,cde->abde", output_shape=(None, 4, 8),
...     bias_axes="de"), LayerCall(((b, 10, 16),)))
>>> out.shapes, out.params
(((Expr('batch'), 10, 4, 8),), 544)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainValidator

from shapecalc.dims import Dim, format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import LayerSpec, Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, flat_size, require_min_rank, same_size
from shapecalc.model.options import Count, Flag, Options, Size, Unset, as_size, weight_settings

#: Longest equation read (Keras' letters are 52; anything longer is not an EinsumDense equation).
MAX_EQUATION = 200
_TERM = r"(\.\.\.)?([a-zA-Z]*)(\.\.\.)?"
_EQUATION = re.compile(rf"{_TERM},([a-zA-Z]+)->{_TERM}")


def lora_split(kernel: tuple[Dim, ...], rank: Dim | None) -> tuple[Dim, Dim]:
    """``(added trainable, non-trainable)`` params of LoRA of ``rank`` on ``kernel``: the kernel
    freezes, and two adapters ``(*kernel[:-1], rank)`` and ``(rank, kernel[-1])`` learn.

    >>> lora_split((16, 8), 2), lora_split((16, 8), None)
    ((48, 128), (0, 0))
    """
    if rank is None:
        return 0, 0
    return flat_size(kernel[:-1]) * rank + rank * kernel[-1], flat_size(kernel)


def _lora_rank(value: Any) -> Dim | None:
    return None if value in (None, 0) else as_size(value)


#: ``lora_rank``: unset (``null``/0) or the adapters' rank.
LoraRank = Annotated[int | Any | None, PlainValidator(_lora_rank)]


def _output_shape(value: Any) -> tuple[Dim | None, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return tuple(None if item is None else as_size(item) for item in items)


#: EinsumDense's ``output_shape``: sizes of the output's axes after the batch, ``null`` where the
#: input gives it.
PartialShape = Annotated[tuple[Any, ...], PlainValidator(_output_shape)]


@dataclass(frozen=True)
class Equation:
    """An EinsumDense equation: the input's, the kernel's and the output's letters, and where
    the ellipsis stands (``left``: ``...ab``, ``right``: ``ab...``, ``None``: nowhere)."""

    inputs: str
    kernel: str
    output: str
    ellipsis: str | None


def parse_equation(text: Any) -> Equation:
    """``"...ab,bc->...ac"``, ``"ab...,bc->ac..."`` or ``"ab,bc->ac"``; anything else is refused.

    >>> parse_equation("...b,bc->...c")
    Equation(inputs='b', kernel='bc', output='c', ellipsis='left')
    >>> try:
    ...     parse_equation("ab,bc")
    ... except ShapecalcError as error:
    ...     print(error.option, error.message.startswith("must be like"), error.message.endswith("'ab,bc'"))
    equation True True
    """
    refused = ShapecalcError(
        f"must be like 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...', got {shown(text)}",
        option="equation",
    )
    if not isinstance(text, str) or len(text) > MAX_EQUATION:
        raise refused
    match = _EQUATION.fullmatch(text)
    if match is None:
        raise refused
    in_left, inputs, in_right, kernel, out_left, output, out_right = match.groups()
    if in_left and not in_right and out_left and not out_right:
        ellipsis: str | None = "left"
    elif in_right and not in_left and out_right and not out_left and len(inputs) >= 2:
        ellipsis = "right"
    elif not (in_left or in_right or out_left or out_right) and inputs and output:
        ellipsis = None
    else:
        raise refused
    for term in (inputs, kernel, output):
        repeated = sorted({letter for letter in term if term.count(letter) > 1})
        if repeated:
            raise ShapecalcError(
                f"repeats {repeated[0]!r} in {term!r} (a diagonal), got {shown(text)}", option="equation"
            )
    for letter in output:
        if letter not in inputs and letter not in kernel:
            raise ShapecalcError(
                f"the output's {letter!r} is in neither the input nor the kernel, got {shown(text)}",
                option="equation",
            )
    for letter in kernel:
        if letter not in inputs and letter not in output:
            raise ShapecalcError(
                f"the kernel's {letter!r} is in neither the input nor the output, got {shown(text)}",
                option="equation",
            )
    return Equation(inputs, kernel, output, ellipsis)


class EinsumDenseOptions(Options):
    equation: str
    output_shape: PartialShape
    bias_axes: str | None = None
    lora_rank: LoraRank = None
    quantization_config: Unset = None


EINSUM_DENSE_INERT = weight_settings("kernel", "bias") | {
    "activation",
    "lora_alpha",
    "gptq_unpacked_column_size",
}


@dataclass(frozen=True)
class Einsum:
    """What an EinsumDense builds on an input: the output, the kernel and the bias shapes, and
    the size of every letter and elided axis (the MACs multiply them)."""

    output: Shape
    kernel: Shape
    bias: Shape | None
    work: Dim
    constraints: tuple[str, ...]


def einsum_shapes(options: EinsumDenseOptions, shape: Shape) -> Einsum:
    """Keras' weight shapes (``_analyze_split_string``) and the shape ``einsum`` returns."""
    equation = parse_equation(options.equation)
    letters, elided = len(equation.inputs), len(shape) - len(equation.inputs)
    if elided < 0 or (equation.ellipsis is None and elided):
        raise ShapecalcError(
            f"{options.equation!r} takes a {letters}-D input"
            f"{' or more' if equation.ellipsis else ''}, got {format_shape(shape)}"
        )
    left = elided if equation.ellipsis == "left" else 0
    sizes = {letter: shape[left + i] for i, letter in enumerate(equation.inputs)}
    # Keras' own reckoning of the output, which the kernel's and the bias' sizes come from:
    # the batch, then (left ellipsis) the elided axes in reverse, then ``output_shape``.
    wanted = len(equation.output) - (1 if left == 0 else 0)
    if len(options.output_shape) < wanted:
        raise ShapecalcError(
            f"must give {wanted} size(s) for {options.equation!r}, got {list(options.output_shape)}",
            option="output_shape",
        )
    # Past the elided axes Keras' list is the output's letters (the batch is one unless elided);
    # sizes past the last letter it never reads, and the layer returns no such axis.
    declared: list[Dim | None] = [*([] if left else [shape[0]]), *options.output_shape[:wanted]]
    conditions: list[str] = []
    for letter, size in zip(equation.output, declared, strict=True):
        if letter in sizes and size is not None:
            what = f"output_shape gives {letter!r} {size}, the input {sizes[letter]}"
            _, condition = same_size(sizes[letter], size, what)
            if condition:
                conditions.append(condition)
    kernel: list[Dim] = []
    for letter in equation.kernel:
        if letter in equation.output:
            size = declared[equation.output.index(letter)]
            if size is None:
                raise ShapecalcError(
                    f"must give the size of the kernel's {letter!r} in {options.equation!r}, "
                    f"got {list(options.output_shape)}",
                    option="output_shape",
                )
            kernel.append(size)
        else:
            kernel.append(sizes[letter])
        sizes.setdefault(letter, kernel[-1])
    lead, tail = shape[:left], shape[left + letters :] if equation.ellipsis == "right" else ()
    output = (*lead, *(sizes[letter] for letter in equation.output), *tail)
    bias = _bias_shape(options, equation, declared, elided if equation.ellipsis == "right" else 0)
    work = flat_size((*lead, *tail, *sizes.values()))
    return Einsum(output, tuple(kernel), bias, work, tuple(conditions))


def _bias_shape(
    options: EinsumDenseOptions, equation: Equation, declared: list[Dim | None], right: int
) -> Shape | None:
    """Keras' bias: from the first biased output letter on, the biased sizes and 1 elsewhere."""
    if options.bias_axes is None:
        return None
    axes = options.bias_axes
    if not axes or len(axes) > MAX_EQUATION:
        raise ShapecalcError(f"must name letters of the output, got {shown(axes)}", option="bias_axes")
    for letter in axes:
        if letter not in equation.output:
            raise ShapecalcError(
                f"{letter!r} is not a letter of the output {equation.output!r}, got {shown(axes)}",
                option="bias_axes",
            )
    first = min(equation.output.index(letter) for letter in axes)
    bias: list[Dim] = []
    for index, letter in enumerate(equation.output[first:], first):
        size = declared[index]
        if letter in axes and size is None:
            raise ShapecalcError(
                f"{letter!r} needs its size in output_shape (Keras leaves it unknown), got {shown(axes)}",
                option="bias_axes",
            )
        bias.append(size if letter in axes and size is not None else 1)
    return (*bias, *([1] * right))


def einsum_dense(options: EinsumDenseOptions, call: LayerCall) -> LayerOutput:
    """``einsum(equation, input, kernel) + bias``; LoRA freezes the kernel and adds adapters."""
    shape = call.single()
    found = einsum_shapes(options, shape)
    kernel = flat_size(found.kernel)
    bias = 0 if found.bias is None else flat_size(found.bias)
    added, frozen = lora_split(found.kernel, options.lora_rank)
    return LayerOutput(
        (found.output,), kernel + bias + added, frozen, macs=found.work, constraints=found.constraints
    )


def _axis_pair(value: Any) -> tuple[int, int]:
    pair = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or any(isinstance(a, bool) or not isinstance(a, int) for a in pair)
    ):
        raise ShapecalcError(f"must be an axis or a pair of axes, got {shown(value)}")
    return pair[0], pair[1]


class DotOptions(Options):
    axes: Annotated[tuple[int, int], PlainValidator(_axis_pair)]
    normalize: Flag = False


def _dot_axes(pair: tuple[int, int], ranks: tuple[int, int]) -> tuple[int, int]:
    axes = tuple(a % rank if a < 0 else a for a, rank in zip(pair, ranks, strict=True))
    for axis, rank in zip(axes, ranks, strict=True):
        if not 1 <= axis < rank:
            raise ShapecalcError(
                f"must name non-batch axes of inputs of rank {ranks[0]} and {ranks[1]}, got {list(pair)}",
                option="axes",
            )
    return axes[0], axes[1]


def dot(options: DotOptions, call: LayerCall) -> LayerOutput:
    """``batch_dot`` of two inputs over one axis each: the rest of the first, then the rest of
    the second without its batch; a lone batch axis gets a 1."""
    if len(call.inputs) != 2:
        raise ShapecalcError(f"takes 2 inputs, got {len(call.inputs)}")
    x, y = call.inputs
    for shape in (x, y):
        require_min_rank(shape, 2, "(batch, ...)")
    a, b = _dot_axes(options.axes, (len(x), len(y)))
    _, batch = same_size(x[0], y[0], f"inputs {format_shape(x)} and {format_shape(y)} differ in batch")
    _, axis = same_size(x[a], y[b], f"inputs {format_shape(x)} and {format_shape(y)} differ on the axes")
    out = (*x[:a], *x[a + 1 :], *y[1:b], *y[b + 1 :])
    if len(out) == 1:
        out = (*out, 1)
    conditions = tuple(c for c in (batch, axis) if c)
    return LayerOutput((out,), macs=flat_size(out) * x[a], constraints=conditions)


class ReversibleEmbeddingOptions(Options):
    input_dim: Size
    output_dim: Size
    tie_weights: Flag = True
    reverse: Flag = False
    lora_rank: LoraRank = None
    quantization_config: Unset = None


REVERSIBLE_INERT = weight_settings("embeddings") | {
    "mask_zero",
    "weights",
    "lora_alpha",
    "reverse_dtype",
    "logit_soft_cap",
}


def reversible_embedding(options: ReversibleEmbeddingOptions, call: LayerCall) -> LayerOutput:
    """Token ids -> vectors, or (``reverse``) vectors ``(..., output_dim)`` -> logits
    ``(..., input_dim)`` through the table's transpose, or its own ``reverse_embeddings`` when
    the weights are not tied."""
    shape = call.single()
    if options.lora_rank is not None and not options.tie_weights:
        # Keras enables LoRA while building the table, then fails to add reverse_embeddings.
        raise ShapecalcError(
            f"with tie_weights false Keras cannot build the layer, got {options.lora_rank}",
            option="lora_rank",
        )
    table = options.input_dim * options.output_dim
    added, frozen = lora_split((options.input_dim, options.output_dim), options.lora_rank)
    params = table * (1 if options.tie_weights else 2) + added
    if not options.reverse:
        return LayerOutput(((*shape, options.output_dim),), params, frozen)
    _, condition = same_size(
        shape[-1],
        options.output_dim,
        f"reverse takes (..., output_dim={options.output_dim}), got {format_shape(shape)}",
    )
    return LayerOutput(
        ((*shape[:-1], options.input_dim),),
        params,
        frozen,
        macs=flat_size(shape) * options.input_dim,
        constraints=(condition,) if condition else (),
    )


class SpectralNormalizationOptions(Options):
    power_iterations: Count = 1


def _kernel_columns(inner: LayerSpec | Any, input_shape: Shape) -> Dim:
    """The last axis of the wrapped layer's ``kernel`` (or ``embeddings``): the length of the
    vector SpectralNormalization keeps."""
    name = getattr(inner, "class_name", None)
    options = dict(getattr(inner, "options", {}))
    try:
        if name in ("Dense",):
            return as_size(options["units"])
        if name in ("Conv1D", "Conv2D", "Conv3D"):
            return as_size(options["filters"])
        if name in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"):  # (..., filters, in)
            return input_shape[1 if options.get("data_format") == "channels_first" else -1]
        if name in ("DepthwiseConv1D", "DepthwiseConv2D"):  # (..., in, depth_multiplier)
            return as_size(options.get("depth_multiplier", 1))
        if name in ("Embedding", "ReversibleEmbedding"):
            return as_size(options["output_dim"])
        if name == "EinsumDense":
            return einsum_shapes(EinsumDenseOptions.model_validate(options), input_shape).kernel[-1]
    except KeyError as missing:
        raise ShapecalcError("is required", option=f"layer.{missing.args[0]}") from None
    raise ShapecalcError(
        f"SpectralNormalization of {shown(name)} is not supported "
        "(shapecalc reads the kernel of Dense, EinsumDense, Embedding, convolutions and their "
        "transposes, and depthwise convolutions)",
        option="layer",
    )


def spectral_normalization(options: SpectralNormalizationOptions, call: LayerCall) -> LayerOutput:
    """The wrapped layer, plus a non-trainable vector ``u`` of ``(1, kernel.shape[-1])``."""
    shape = call.single()
    inner = call.run_inner((shape,))
    columns = _kernel_columns(call.inner, shape)
    return LayerOutput(
        inner.shapes,
        inner.params + columns,
        inner.non_trainable + columns,
        inner.macs,
        constraints=inner.constraints,
        class_name=f"SpectralNormalization({inner.class_name})",
        activations=inner.activations,
    )


RULES = (
    Rule("EinsumDense", einsum_dense, EinsumDenseOptions, inert=EINSUM_DENSE_INERT),
    Rule("Dot", dot, DotOptions),
    Rule(
        "ReversibleEmbedding",
        reversible_embedding,
        ReversibleEmbeddingOptions,
        inert=REVERSIBLE_INERT,
        call_options=frozenset({"reverse"}),
    ),
    Rule("SpectralNormalization", spectral_normalization, SpectralNormalizationOptions),
)
