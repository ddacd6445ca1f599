"""Convolution (plain, transposed, depthwise, separable), pooling (windowed, global, adaptive),
up-sampling and padding layers in 1, 2 and 3 dimensions.

Output lengths come from :func:`shapecalc.geometry.conv_output_length`, the
same formula the ConvLSTM rules use.

>>> from shapecalc.dims import sym
>>> conv = conv_rule(2)
>>> out = conv.apply(ConvOptions(filters=8, kernel=(3,)), LayerCall(((sym("batch"), 32, 32, 3),)))
>>> out.shapes, out.params
(((Expr('batch'), 30, 30, 8),), 224)
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator

from shapecalc.dims import Dim, floordiv
from shapecalc.errors import ShapecalcError, shown
from shapecalc.geometry import (
    conv_output_length,
    normalize_tuple,
    transposed_output_length,
    valid_padding_constraint,
)
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, flat_size, require_rank
from shapecalc.model.options import (
    Count,
    Counts,
    DataFormat,
    Flag,
    Options,
    Size,
    Sizes,
    aliases,
    weight_settings,
)

AXIS_NAMES = {1: ("steps",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}
LAYOUTS = {
    1: "(batch, steps, channels)",
    2: "(batch, rows, cols, channels)",
    3: "(batch, depth, rows, cols, channels)",
}


def _layout(rank: int, data_format: str) -> str:
    if data_format == "channels_last":
        return LAYOUTS[rank]
    axes = ", ".join(AXIS_NAMES[rank])
    return f"(batch, channels, {axes})"


def _split(shape: Shape, rank: int, data_format: str) -> tuple[tuple[Dim, ...], Dim]:
    """``shape``'s spatial sizes and channel count, after checking its rank."""
    require_rank(shape, rank + 2, _layout(rank, data_format))
    if data_format == "channels_last":
        return shape[1:-1], shape[-1]
    return shape[2:], shape[1]


def _join(batch: Dim, spatial: tuple[Dim, ...], channels: Dim, data_format: str) -> Shape:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def _per_axis(values: tuple[Any, ...], rank: int, option: str) -> tuple[Any, ...]:
    """One value for every axis: a single value is repeated, as Keras does."""
    if len(values) == rank:
        return values  # already checked positive by the option schema
    return normalize_tuple(values[0] if len(values) == 1 else values, rank, option)


class ConvOptions(Options):
    filters: Size
    kernel: Sizes = Field(validation_alias=aliases("kernel", "kernel_size"))
    strides: Counts = (1,)
    padding: Literal["valid", "same", "causal"] = "valid"
    dilation: Sizes = Field((1,), validation_alias=aliases("dilation", "dilation_rate"))
    data_format: DataFormat = "channels_last"
    groups: Count = 1
    use_bias: Flag = True


def _window(
    options: Any, rank: int, causal: bool = False, strided_dilation: bool = False
) -> tuple[tuple[Dim, ...], tuple[int, ...], tuple[Dim, ...]]:
    """A convolution's kernel, strides and dilation, one per axis, with Keras' refusals (the
    depthwise convolutions take strides and dilation together: ``strided_dilation``)."""
    kernel = _per_axis(options.kernel, rank, "kernel")
    strides = _per_axis(options.strides, rank, "strides")
    dilation = _per_axis(options.dilation, rank, "dilation")
    if options.padding == "causal" and not causal:
        raise ShapecalcError("'causal' is for Conv1D only", option="padding")
    if not strided_dilation and max(strides) > 1 and any(d != 1 for d in dilation):
        raise ShapecalcError(
            f"strides > 1 are not compatible with dilation > 1 (Keras refuses it), got "
            f"strides={list(strides)} and dilation={list(dilation)}",
            option="strides",
        )
    return kernel, strides, dilation


def conv_rule(rank: int) -> Rule:
    """``Conv{rank}D``: kernel ``(*kernel, channels/groups, filters)`` and a bias ``(filters,)``."""

    def apply(options: ConvOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        spatial, channels = _split(shape, rank, options.data_format)
        kernel, strides, dilation = _window(options, rank, causal=rank == 1)
        filters, groups = options.filters, options.groups
        for what, size in (("filters", filters), ("input channels", channels)):
            if isinstance(size, int) and size % groups:
                raise ShapecalcError(f"must divide the {what} ({size}), got {groups}", option="groups")
        # Causal padding pads the front by the dilated kernel span: the length comes out as for 'same'.
        padding = "same" if options.padding == "causal" else options.padding
        out, constraints = _lengths(spatial, kernel, strides, padding, dilation, rank)
        per_filter = flat_size(kernel) * floordiv(channels, groups)
        params = per_filter * filters + (filters if options.use_bias else 0)
        output = _join(shape[0], out, filters, options.data_format)
        macs = flat_size((*output, per_filter))
        return LayerOutput((output,), params, macs=macs, constraints=constraints)

    return Rule(f"Conv{rank}D", apply, ConvOptions, aliases=(f"Convolution{rank}D",), inert=CONV_INERT)


CONV_INERT = weight_settings("kernel", "bias") | {"activation"}


def _as_paddings(value: Any) -> tuple[int, ...] | None:
    """``output_padding``: unset, or a non-negative integer per axis (one is repeated)."""
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else (value,)
    if not items or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in items):
        raise ShapecalcError(f"must be a non-negative integer or a list of them, got {shown(value)}")
    return tuple(items)


class ConvTransposeOptions(Options):
    filters: Size
    kernel: Sizes = Field(validation_alias=aliases("kernel", "kernel_size"))
    strides: Counts = (1,)
    padding: Literal["valid", "same"] = "valid"
    output_padding: Annotated[tuple[int, ...] | None, PlainValidator(_as_paddings)] = None
    dilation: Sizes = Field((1,), validation_alias=aliases("dilation", "dilation_rate"))
    data_format: DataFormat = "channels_last"
    use_bias: Flag = True


def conv_transpose_rule(rank: int) -> Rule:
    """``Conv{rank}DTranspose``: kernel ``(*kernel, filters, channels)`` and a bias ``(filters,)``;
    each input element spreads over a kernel's window of the output."""

    def apply(options: ConvTransposeOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        spatial, channels = _split(shape, rank, options.data_format)
        kernel, strides, dilation = _window(options, rank)
        extra: tuple[int | None, ...] = (None,) * rank
        if options.output_padding is not None:
            extra = _zeros_or_given(options.output_padding, rank)
            for axis, (pad, stride) in enumerate(zip(extra, strides, strict=True)):
                if pad is not None and pad >= stride:
                    raise ShapecalcError(
                        f"must be smaller than strides on every axis (Keras refuses it), got "
                        f"{pad} >= {stride} on axis {axis}",
                        option="output_padding",
                    )
        out = tuple(
            transposed_output_length(length, size, stride, options.padding, rate, pad)
            for length, size, stride, rate, pad in zip(spatial, kernel, strides, dilation, extra, strict=True)
        )
        volume = flat_size(kernel)
        params = volume * channels * options.filters + (options.filters if options.use_bias else 0)
        macs = flat_size(shape) * volume * options.filters
        output = _join(shape[0], out, options.filters, options.data_format)
        return LayerOutput((output,), params, macs=macs)

    return Rule(
        f"Conv{rank}DTranspose", apply, ConvTransposeOptions, aliases=(f"Convolution{rank}DTranspose",),
        inert=CONV_INERT,
    )


def _zeros_or_given(values: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """``output_padding`` with zeros allowed: one value repeated, or one per axis."""
    if len(values) == rank:
        return values
    if len(values) == 1:
        return values * rank
    raise ShapecalcError(f"needs 1 or {rank} values, got {len(values)}", option="output_padding")


class DepthwiseOptions(Options):
    depth_multiplier: Size = 1
    kernel: Sizes = Field(validation_alias=aliases("kernel", "kernel_size"))
    strides: Counts = (1,)
    padding: Literal["valid", "same"] = "valid"
    dilation: Sizes = Field((1,), validation_alias=aliases("dilation", "dilation_rate"))
    data_format: DataFormat = "channels_last"
    use_bias: Flag = True


class SeparableOptions(DepthwiseOptions):
    filters: Size


DEPTHWISE_INERT = weight_settings("depthwise", "bias") | {"activation"}
SEPARABLE_INERT = DEPTHWISE_INERT | weight_settings("pointwise")


def depthwise_rule(rank: int, separable: bool) -> Rule:
    """``DepthwiseConv{rank}D``: a kernel ``(*kernel, channels, depth_multiplier)`` per channel, a
    bias ``(channels*depth_multiplier,)``; ``SeparableConv{rank}D`` follows it with a pointwise
    kernel ``(1.., channels*depth_multiplier, filters)`` and a bias ``(filters,)``."""

    def apply(options: Any, call: LayerCall) -> LayerOutput:
        shape = call.single()
        spatial, channels = _split(shape, rank, options.data_format)
        kernel, strides, dilation = _window(options, rank, strided_dilation=True)
        out, constraints = _lengths(spatial, kernel, strides, options.padding, dilation, rank)
        depth = channels * options.depth_multiplier
        volume = flat_size(kernel)
        depthwise_macs = flat_size((shape[0], *out, depth)) * volume
        if not separable:
            params = volume * depth + (depth if options.use_bias else 0)
            output = _join(shape[0], out, depth, options.data_format)
            return LayerOutput((output,), params, macs=depthwise_macs, constraints=constraints)
        filters = options.filters
        params = volume * depth + depth * filters + (filters if options.use_bias else 0)
        output = _join(shape[0], out, filters, options.data_format)
        macs = depthwise_macs + flat_size(output) * depth
        return LayerOutput((output,), params, macs=macs, constraints=constraints)

    if separable:
        return Rule(
            f"SeparableConv{rank}D", apply, SeparableOptions, aliases=(f"SeparableConvolution{rank}D",),
            inert=SEPARABLE_INERT,
        )
    return Rule(f"DepthwiseConv{rank}D", apply, DepthwiseOptions, inert=DEPTHWISE_INERT)


def _lengths(
    spatial: tuple[Dim, ...],
    window: tuple[Dim, ...],
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[Dim, ...],
    rank: int,
) -> tuple[tuple[Dim, ...], tuple[str, ...]]:
    out, constraints = [], []
    for axis, (length, size, stride, rate) in enumerate(zip(spatial, window, strides, dilation, strict=True)):
        if padding == "valid":
            condition = valid_padding_constraint(length, size, rate, AXIS_NAMES[rank][axis])
            if condition:
                constraints.append(condition)
        out.append(conv_output_length(length, size, stride, padding, rate))
    return tuple(out), tuple(constraints)


class PoolOptions(Options):
    pool_size: Counts = (2,)
    strides: Counts | None = None
    padding: Literal["valid", "same"] = "valid"
    data_format: DataFormat = "channels_last"


def pool_rule(kind: str, rank: int) -> Rule:
    """``{kind}Pooling{rank}D``: a window of ``pool_size``, moved by ``strides`` (default: the window)."""

    def apply(options: PoolOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        spatial, channels = _split(shape, rank, options.data_format)
        window = _per_axis(options.pool_size, rank, "pool_size")
        strides = _per_axis(options.strides or options.pool_size, rank, "strides")
        try:
            out, constraints = _lengths(spatial, window, strides, options.padding, (1,) * rank, rank)
        except ShapecalcError as error:
            raise ShapecalcError(error.message.replace("kernel", "pool_size", 1)) from None
        return LayerOutput((_join(shape[0], out, channels, options.data_format),), constraints=constraints)

    short = {"Max": "MaxPool", "Average": "AvgPool"}[kind]
    return Rule(f"{kind}Pooling{rank}D", apply, PoolOptions, aliases=(f"{short}{rank}D",))


class GlobalPoolOptions(Options):
    data_format: DataFormat = "channels_last"
    keepdims: Flag = False


def global_pool_rule(kind: str, rank: int) -> Rule:
    """``Global{kind}Pooling{rank}D``: one value per channel (spatial axes kept as 1 with keepdims)."""

    def apply(options: GlobalPoolOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        _, channels = _split(shape, rank, options.data_format)
        if options.keepdims:
            return LayerOutput((_join(shape[0], (1,) * rank, channels, options.data_format),))
        return LayerOutput(((shape[0], channels),))

    short = {"Max": "GlobalMaxPool", "Average": "GlobalAvgPool"}[kind]
    return Rule(f"Global{kind}Pooling{rank}D", apply, GlobalPoolOptions, aliases=(f"{short}{rank}D",))


class AdaptivePoolOptions(Options):
    output_size: Counts
    data_format: DataFormat = "channels_last"


def adaptive_pool_rule(kind: str, rank: int) -> Rule:
    """``Adaptive{kind}Pooling{rank}D``: the spatial axes become ``output_size``, whatever their length."""

    def apply(options: AdaptivePoolOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        _, channels = _split(shape, rank, options.data_format)
        out = _per_axis(options.output_size, rank, "output_size")
        return LayerOutput((_join(shape[0], out, channels, options.data_format),))

    return Rule(f"Adaptive{kind}Pooling{rank}D", apply, AdaptivePoolOptions)


class UpSampling1DOptions(Options):
    size: Counts = (2,)


class UpSamplingOptions(UpSampling1DOptions):
    data_format: DataFormat = "channels_last"


def upsampling_rule(rank: int) -> Rule:
    """``UpSampling{rank}D``: every spatial length times ``size``."""

    def apply(options: UpSampling1DOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        data_format = getattr(options, "data_format", "channels_last")
        spatial, channels = _split(shape, rank, data_format)
        factors = _per_axis(options.size, rank, "size")
        out = tuple(length * factor for length, factor in zip(spatial, factors, strict=True))
        return LayerOutput((_join(shape[0], out, channels, data_format),))

    inert = frozenset({"interpolation"}) if rank == 2 else frozenset()
    schema = UpSamplingOptions if rank > 1 else UpSampling1DOptions
    return Rule(f"UpSampling{rank}D", apply, schema, inert=inert)


def _as_margins(value: Any) -> Any:
    """``1``, ``(1, 2)`` or ``((1, 2), (3, 4))`` as nested tuples of non-negative ints."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_margins(item) for item in value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ShapecalcError(f"must be a non-negative integer or a list of them, got {shown(value)}")
    return value


Margins = Annotated[Any, PlainValidator(_as_margins)]


class ZeroPaddingOptions(Options):
    padding: Margins = 1
    data_format: DataFormat = "channels_last"


class Cropping1DOptions(Options):
    cropping: Margins = 1


class CroppingOptions(Cropping1DOptions):
    data_format: DataFormat = "channels_last"


def _margin_pairs(value: Any, rank: int, option: str) -> tuple[tuple[int, int], ...]:
    """Keras' spellings of margins: one int, one int per axis, or a (before, after) pair per axis."""
    if isinstance(value, int):
        return ((value, value),) * rank
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return ((value[0], value[1]),)
    if len(value) != rank:
        raise ShapecalcError(f"needs {rank} entries, got {shown(list(value))}", option=option)
    pairs = []
    for item in value:
        pair = (item, item) if isinstance(item, int) else tuple(item)
        if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
            raise ShapecalcError(f"needs (before, after) pairs, got {shown(list(value))}", option=option)
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def margin_rule(rank: int, sign: int) -> Rule:
    """``ZeroPadding{rank}D`` (``sign`` +1) and ``Cropping{rank}D`` (-1)."""
    option, name = ("padding", "ZeroPadding") if sign > 0 else ("cropping", "Cropping")
    schema: type[Options] = ZeroPaddingOptions if sign > 0 else CroppingOptions
    if sign < 0 and rank == 1:
        schema = Cropping1DOptions

    def apply(options: Any, call: LayerCall) -> LayerOutput:
        shape = call.single()
        data_format = getattr(options, "data_format", "channels_last")
        spatial, channels = _split(shape, rank, data_format)
        pairs = _margin_pairs(getattr(options, option), rank, option)
        out = []
        for length, (before, after) in zip(spatial, pairs, strict=True):
            size = length + sign * (before + after)
            if isinstance(size, int) and size < 1:
                raise ShapecalcError(f"{(before, after)} leaves nothing of length {length}", option=option)
            out.append(size)
        return LayerOutput((_join(shape[0], tuple(out), channels, data_format),))

    return Rule(f"{name}{rank}D", apply, schema)


RULES = (
    *(conv_rule(rank) for rank in (1, 2, 3)),
    *(conv_transpose_rule(rank) for rank in (1, 2, 3)),
    *(depthwise_rule(rank, separable) for separable in (False, True) for rank in (1, 2)),
    *(adaptive_pool_rule(kind, rank) for kind in ("Max", "Average") for rank in (1, 2, 3)),
    *(pool_rule(kind, rank) for kind in ("Max", "Average") for rank in (1, 2, 3)),
    *(global_pool_rule(kind, rank) for kind in ("Max", "Average") for rank in (1, 2, 3)),
    *(upsampling_rule(rank) for rank in (1, 2, 3)),
    *(margin_rule(rank, sign) for sign in (1, -1) for rank in (1, 2, 3)),
)
