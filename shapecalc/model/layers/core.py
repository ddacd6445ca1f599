"""Dense, Embedding, normalisation, shape-preserving and reshaping layers.

>>> from shapecalc.dims import sym
>>> out = dense(DenseOptions(units=8), LayerCall(((sym("batch"), 20),)))
>>> out.shapes, out.params
(((Expr('batch'), 8),), 168)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import PlainValidator

from shapecalc.dims import Dim, floordiv, format_shape
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import (
    LayerCall,
    LayerOutput,
    Rule,
    axis_index,
    flat_size,
    require_min_rank,
    require_rank,
)
from shapecalc.model.layers.einsum import LoraRank, lora_split
from shapecalc.model.options import Axes, Flag, Options, Size, Unset, as_size, weight_settings


class DenseOptions(Options):
    units: Size
    use_bias: Flag = True
    lora_rank: LoraRank = None
    quantization_config: Unset = None


DENSE_INERT = weight_settings("kernel", "bias") | {"activation", "lora_alpha"}


def dense(options: DenseOptions, call: LayerCall) -> LayerOutput:
    """``(..., features)`` -> ``(..., units)``: a kernel ``(features, units)`` and a bias
    (LoRA freezes the kernel and adds two adapters)."""
    shape = call.single()
    require_min_rank(shape, 2, "(batch, ..., features)")
    features, units = shape[-1], options.units
    added, frozen = lora_split((features, units), options.lora_rank)
    params = features * units + (units if options.use_bias else 0) + added
    macs = flat_size(shape[:-1]) * features * units
    return LayerOutput(((*shape[:-1], units),), params, frozen, macs=macs)


class EmbeddingOptions(Options):
    input_dim: Size
    output_dim: Size
    lora_rank: LoraRank = None
    quantization_config: Unset = None


#: ``input_length`` and ``sparse``: Keras 2's arguments, still in its files.
KERAS2_EMBEDDING = {"input_length", "sparse"}
EMBEDDING_INERT = weight_settings("embeddings") | {"mask_zero", "weights", "lora_alpha"} | KERAS2_EMBEDDING


def embedding(options: EmbeddingOptions, call: LayerCall) -> LayerOutput:
    """Token ids ``(batch, ...)`` -> vectors ``(batch, ..., output_dim)``; a table of ``input_dim`` rows."""
    shape = call.single()
    added, frozen = lora_split((options.input_dim, options.output_dim), options.lora_rank)
    table = options.input_dim * options.output_dim
    return LayerOutput(((*shape, options.output_dim),), table + added, frozen)


def unchanged(options: Options, call: LayerCall) -> LayerOutput:
    """Activations, dropout, noise, masking: the output has the input's shape."""
    return LayerOutput((call.single(),))


class BatchNormOptions(Options):
    axis: int = -1
    center: Flag = True
    scale: Flag = True
    renorm: Unset = None


#: The normalisations' learned scale and offset, and their numerics.
NORM_INERT = weight_settings("beta", "gamma") | {"epsilon"}
BATCH_NORM_INERT = NORM_INERT | {
    "momentum",
    "moving_mean_initializer",
    "moving_variance_initializer",
    "renorm_clipping",
    "renorm_momentum",
    "synchronized",
}


def batch_normalization(options: BatchNormOptions, call: LayerCall) -> LayerOutput:
    """gamma and beta (trainable), moving mean and variance (not), each ``(shape[axis],)``."""
    shape = call.single()
    size = shape[axis_index(options.axis, len(shape))]
    trainable = size * (int(options.center) + int(options.scale))
    return LayerOutput((shape,), trainable + 2 * size, non_trainable=2 * size)


class LayerNormOptions(Options):
    axis: Axes = (-1,)
    center: Flag = True
    scale: Flag = True
    rms_scaling: Flag = False


def layer_normalization(options: LayerNormOptions, call: LayerCall) -> LayerOutput:
    """gamma (``scale`` or ``rms_scaling``) and beta (``center``, not with rms), over ``axis``."""
    shape = call.single()
    size = _axes_size(shape, options.axis)
    gamma = options.scale or options.rms_scaling
    beta = options.center and not options.rms_scaling
    return LayerOutput((shape,), size * (int(gamma) + int(beta)))


class RMSNormOptions(Options):
    axis: Axes = (-1,)


def rms_normalization(options: RMSNormOptions, call: LayerCall) -> LayerOutput:
    shape = call.single()
    return LayerOutput((shape,), _axes_size(shape, options.axis))


class GroupNormOptions(Options):
    groups: Size = 32
    axis: int = -1
    center: Flag = True
    scale: Flag = True


def group_normalization(options: GroupNormOptions, call: LayerCall) -> LayerOutput:
    shape = call.single()
    size = shape[axis_index(options.axis, len(shape))]
    groups = options.groups
    if isinstance(size, int) and isinstance(groups, int) and size % groups:
        raise ShapecalcError(f"must divide the {size} channels, got {groups}", option="groups")
    return LayerOutput((shape,), size * (int(options.center) + int(options.scale)))


class PReLUOptions(Options):
    shared_axes: Axes | None = None


def prelu(options: PReLUOptions, call: LayerCall) -> LayerOutput:
    """One learned slope per element, shared along ``shared_axes``."""
    shape = call.single()
    shared = {axis_index(a, len(shape), "shared_axes") for a in options.shared_axes or ()}
    size = flat_size(tuple(1 if i in shared else d for i, d in enumerate(shape) if i > 0))
    return LayerOutput((shape,), size)


def _axes_size(shape: Shape, axes: tuple[int, ...]) -> Dim:
    return flat_size(tuple(shape[axis_index(a, len(shape))] for a in sorted(set(axes))))


def flatten(options: Options, call: LayerCall) -> LayerOutput:
    """``(batch, ...)`` -> ``(batch, product of the rest)``."""
    shape = call.single()
    return LayerOutput(((shape[0], flat_size(shape, 1)),))


def _as_target(value: Any) -> tuple[Dim, ...]:
    if not isinstance(value, (list, tuple)) or not value:
        raise ShapecalcError(f"must be a list of sizes (one may be -1), got {shown(value)}")
    return tuple(-1 if item == -1 and not isinstance(item, bool) else as_size(item) for item in value)


class ReshapeOptions(Options):
    target_shape: Annotated[tuple[Any, ...], PlainValidator(_as_target)]


def reshape(options: ReshapeOptions, call: LayerCall) -> LayerOutput:
    """The same elements in ``target_shape`` (batch axis kept); one ``-1`` is inferred."""
    shape = call.single()
    target = options.target_shape
    total = flat_size(shape, 1)
    if target.count(-1) > 1:
        raise ShapecalcError(f"can infer only one -1, got {list(target)}", option="target_shape")
    known = flat_size(tuple(d for d in target if d != -1))
    if -1 in target:
        if not isinstance(known, int):
            raise ShapecalcError(
                f"cannot infer -1 next to symbolic sizes {list(target)}", option="target_shape"
            )
        if isinstance(total, int) and total % known:
            raise ShapecalcError(
                f"cannot reshape {format_shape(shape)} ({total} values per sample) to {list(target)}",
                option="target_shape",
            )
        inferred = floordiv(total, known)
        target = tuple(inferred if d == -1 else d for d in target)
        # A symbolic size must divide evenly, as Keras checks once the size is known.
        text = str(total) if isinstance(total, int) or total.names() == {str(total)} else f"({total})"
        condition = None if inferred * known == total else f"{text} % {known} == 0"
        return LayerOutput(((shape[0], *target),), constraints=(condition,) if condition else ())
    if isinstance(total, int) and isinstance(known, int) and total != known:
        raise ShapecalcError(
            f"cannot reshape {format_shape(shape)} ({total} values per sample) to {list(target)} ({known})",
            option="target_shape",
        )
    condition = None if total == known else f"{total} == {known}"
    return LayerOutput(((shape[0], *target),), constraints=(condition,) if condition else ())


class PermuteOptions(Options):
    dims: Axes


def permute(options: PermuteOptions, call: LayerCall) -> LayerOutput:
    """Reorder the non-batch axes; ``dims`` counts them from 1."""
    shape = call.single()
    if sorted(options.dims) != list(range(1, len(shape))):
        raise ShapecalcError(
            f"must order the axes 1..{len(shape) - 1} of {format_shape(shape)}, got {list(options.dims)}",
            option="dims",
        )
    return LayerOutput(((shape[0], *(shape[d] for d in options.dims)),))


class RepeatVectorOptions(Options):
    n: Size


def repeat_vector(options: RepeatVectorOptions, call: LayerCall) -> LayerOutput:
    """``(batch, features)`` -> ``(batch, n, features)``."""
    shape = call.single()
    require_rank(shape, 2, "(batch, features)")
    return LayerOutput(((shape[0], options.n, shape[1]),))


#: Layers whose output has the input's shape, and their arguments (none changes a shape or a count).
SHAPE_PRESERVING = {
    "Activation": {"activation"},
    "ReLU": {"max_value", "negative_slope", "threshold"},
    "LeakyReLU": {"negative_slope"},
    "ELU": {"alpha"},
    "Softmax": {"axis"},
    "Dropout": {"rate", "noise_shape", "seed"},
    "SpatialDropout1D": {"rate", "seed"},
    "SpatialDropout2D": {"rate", "seed", "data_format"},
    "SpatialDropout3D": {"rate", "seed", "data_format"},
    "GaussianNoise": {"stddev", "seed"},
    "GaussianDropout": {"rate", "seed"},
    "AlphaDropout": {"rate", "noise_shape", "seed"},
    "ActivityRegularization": {"l1", "l2"},
    "Masking": {"mask_value"},
    "Identity": set(),
    "UnitNormalization": {"axis"},
}

RULES = (
    Rule("Dense", dense, DenseOptions, inert=DENSE_INERT),
    Rule("Embedding", embedding, EmbeddingOptions, inert=EMBEDDING_INERT),
    *(Rule(name, unchanged, Options, inert=frozenset(inert)) for name, inert in SHAPE_PRESERVING.items()),
    Rule("BatchNormalization", batch_normalization, BatchNormOptions, inert=BATCH_NORM_INERT),
    Rule("LayerNormalization", layer_normalization, LayerNormOptions, inert=NORM_INERT),
    Rule("RMSNormalization", rms_normalization, RMSNormOptions, inert=frozenset({"epsilon"})),
    Rule("GroupNormalization", group_normalization, GroupNormOptions, inert=NORM_INERT),
    Rule("PReLU", prelu, PReLUOptions, inert=weight_settings("alpha")),
    # channels_first only reorders what is flattened: the length is the same.
    Rule("Flatten", flatten, Options, inert=frozenset({"data_format"})),
    Rule("Reshape", reshape, ReshapeOptions),
    Rule("Permute", permute, PermuteOptions),
    Rule("RepeatVector", repeat_vector, RepeatVectorOptions),
)
