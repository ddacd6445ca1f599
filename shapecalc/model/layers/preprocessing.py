"""Preprocessing layers: image resizing, cropping and augmentation, rescaling and normalisation,
and the categorical layers (text vectorisation, lookups, hashing, category encoding, discretisation).

Shapes are those the layers return when called (``training=True`` for the augmentations);
none of them has trainable weights. A categorical layer's output size is its vocabulary's,
read from the config (``vocabulary``, or the ``vocabulary_size`` Keras writes after ``adapt()``);
a layer that records neither is refused.

>>> from shapecalc.dims import sym
>>> out = resizing(ResizingOptions(height=64, width=48), LayerCall(((sym("batch"), 100, 80, 3),)))
>>> out.shapes
((Expr('batch'), 64, 48, 3),)
>>> encode = category_encoding(CategoryOptions(num_tokens=10), LayerCall(((sym("batch"), 4),)))
>>> encode.shapes
((Expr('batch'), 10),)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import PlainValidator

from shapecalc.dims import Dim, format_shape, sym
from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, axis_index, flat_size, require_rank
from shapecalc.model.options import Count, DataFormat, Flag, Options, Size, as_count

IMAGE_LAYOUTS = {
    "channels_last": "(batch, rows, cols, channels)",
    "channels_first": "(batch, channels, rows, cols)",
}
#: The length of a text split into tokens when ``output_sequence_length`` does not fix it.
TOKENS = sym("tokens")


def _image(shape: Shape, data_format: str) -> tuple[int, int, int]:
    """The rows, cols and channels axes of a batch of images, after checking its rank."""
    require_rank(shape, 4, IMAGE_LAYOUTS[data_format])
    return (1, 2, 3) if data_format == "channels_last" else (2, 3, 1)


class ImageOptions(Options):
    data_format: DataFormat = "channels_last"


class ResizingOptions(ImageOptions):
    height: Size
    width: Size


def resizing(options: ResizingOptions, call: LayerCall) -> LayerOutput:
    """``Resizing``, ``CenterCrop``, ``RandomCrop``: the image axes become ``height`` x ``width``
    (a smaller image is resized up: the output never depends on the input's size)."""
    shape = list(call.single())
    rows, cols, _ = _image(tuple(shape), options.data_format)
    shape[rows], shape[cols] = options.height, options.width
    return LayerOutput((tuple(shape),))


def _channels(allowed: tuple[int, ...], why: str) -> Callable[[ImageOptions, LayerCall], LayerOutput]:
    def check(options: ImageOptions, call: LayerCall) -> LayerOutput:
        shape = call.single()
        _, _, axis = _image(shape, options.data_format)
        channels = shape[axis]
        if isinstance(channels, int) and channels not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ShapecalcError(f"needs images with {wanted} channels ({why}), got {format_shape(shape)}")
        return LayerOutput((shape,))

    return check


def same_image(options: ImageOptions, call: LayerCall) -> LayerOutput:
    """An augmentation: a batch of images in, the same shape out."""
    shape = call.single()
    _image(shape, options.data_format)
    return LayerOutput((shape,))


def warp(options: ImageOptions, call: LayerCall) -> LayerOutput:
    """``RandomElasticTransform``, ``RandomPerspective``: Keras 3.15 fails on images one pixel
    high or wide (its displacement field, its singular transform)."""
    shape = call.single()
    rows, cols, _ = _image(shape, options.data_format)
    if 1 in (shape[rows], shape[cols]):
        raise ShapecalcError(
            f"needs images at least 2 pixels high and wide (Keras fails), got {format_shape(shape)}"
        )
    return LayerOutput((shape,))


def _given(value: Any) -> bool:
    return value is not None


#: Whether a value (any value: a number, a list) is given; only that counts for the shape.
Given = Annotated[bool, PlainValidator(_given)]


class ColorJitterOptions(ImageOptions):
    saturation_factor: Given = False
    hue_factor: Given = False


def color_jitter(options: ColorJitterOptions, call: LayerCall) -> LayerOutput:
    """``RandomColorJitter``: the saturation and hue changes go through HSV, which needs RGB."""
    if not options.saturation_factor and not options.hue_factor:
        return same_image(options, call)
    if options.data_format == "channels_first":
        raise ShapecalcError(
            "with saturation_factor or hue_factor, Keras 3 fails on channels_first images",
            option="data_format",
        )
    return _channels((3,), "its saturation and hue changes work in HSV")(options, call)


_FILL = {"fill_mode", "fill_value", "interpolation"}
_COLOR = {"factor", "value_range", "seed"}
#: The augmentations that keep the image's shape, each with its arguments (none changes a shape)
#: and the channel counts it accepts (``()``: any).
AUGMENTATIONS: dict[str, tuple[set[str], tuple[int, ...]]] = {
    # Some of its random operations fail on other channel counts, some do not: refused.
    "AugMix": (
        {"value_range", "num_chains", "chain_depth", "factor", "alpha", "all_ops", "interpolation", "seed"},
        (1, 3),
    ),
    "AutoContrast": ({"value_range"}, ()),
    "ContrastLimitedAdaptiveHistogramEqualization": ({"value_range", "clip_limit", "tile_grid_size"}, ()),
    "CutMix": ({"factor", "seed"}, ()),
    "Equalization": ({"value_range", "bins"}, ()),
    "MixUp": ({"alpha", "seed"}, ()),
    "RandAugment": ({"value_range", "num_ops", "factor", "interpolation", "seed"}, (1, 3)),
    "Solarization": ({"addition_factor", "threshold_factor", "value_range", "seed"}, ()),
    "RandomBrightness": (_COLOR, ()),
    "RandomColorDegeneration": (_COLOR, (3,)),
    "RandomContrast": (_COLOR, ()),
    "RandomElasticTransform": (_COLOR | _FILL | {"scale"}, ()),
    "RandomErasing": (_COLOR | {"scale", "fill_value"}, ()),
    "RandomFlip": ({"mode", "seed"}, ()),
    "RandomGaussianBlur": (_COLOR | {"kernel_size", "sigma"}, ()),
    "RandomGrayscale": ({"factor", "seed"}, (1, 3)),
    "RandomHue": (_COLOR, (3,)),
    "RandomInvert": (_COLOR, ()),
    "RandomPerspective": ({"factor", "scale", "interpolation", "fill_value", "seed"}, ()),
    "RandomPosterization": (_COLOR, ()),
    "RandomRotation": ({"factor", "seed"} | _FILL, ()),
    "RandomSaturation": (_COLOR, (3,)),
    "RandomSharpness": (_COLOR, ()),
    "RandomShear": ({"x_factor", "y_factor", "seed"} | _FILL, ()),
    "RandomTranslation": ({"height_factor", "width_factor", "seed"} | _FILL, ()),
    "RandomZoom": ({"height_factor", "width_factor", "seed"} | _FILL, ()),
    # Its boxes are capped; the images pass unchanged.
    "MaxNumBoundingBoxes": ({"max_number", "fill_value"}, ()),
}
#: Why an augmentation needs a channel count.
CHANNEL_REASONS = {(3,): "it works on RGB", (1, 3): "it works on grayscale or RGB"}


def _augmentation(name: str, inert: set[str], channels: tuple[int, ...]) -> Rule:
    apply = _channels(channels, CHANNEL_REASONS[channels]) if channels else same_image
    if name in ("RandomElasticTransform", "RandomPerspective"):
        apply = warp
    return Rule(name, apply, ImageOptions, inert=frozenset(inert))


def rescaling(options: Options, call: LayerCall) -> LayerOutput:
    """``Rescaling``: ``x * scale + offset``, any shape."""
    return LayerOutput((call.single(),))


def _as_axes_or_none(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else (value,)
    if any(isinstance(item, bool) or not isinstance(item, int) for item in items):
        raise ShapecalcError(f"must be an axis, a list of axes or null, got {shown(value)}")
    return tuple(items)


class NormalizationOptions(Options):
    axis: Annotated[tuple[int, ...] | None, PlainValidator(_as_axes_or_none)] = (-1,)
    mean: Given = False
    variance: Given = False


def normalization(options: NormalizationOptions, call: LayerCall) -> LayerOutput:
    """``Normalization``: with ``mean`` and ``variance`` given, no weights; else (to be adapted)
    ``mean`` and ``variance`` over the kept ``axis`` sizes and a ``count``, all non-trainable."""
    shape = call.single()
    if options.mean != options.variance:
        raise ShapecalcError("and variance must be given together (Keras refuses one alone)", option="mean")
    if options.mean:
        return LayerOutput((shape,))
    kept = sorted({axis_index(axis, len(shape)) for axis in options.axis or ()})
    size = flat_size(tuple(shape[axis] for axis in kept))
    weights = 2 * size + 1
    return LayerOutput((shape,), weights, non_trainable=weights)


OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
#: Keras' older names of the output modes, still read.
MODE_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def _mode(value: Any) -> str:
    mode = MODE_ALIASES.get(value, value) if isinstance(value, str) else value
    if mode not in OUTPUT_MODES:
        raise ShapecalcError(f"must be one of {', '.join(OUTPUT_MODES)}, got {shown(value)}")
    return str(mode)


OutputMode = Annotated[str, PlainValidator(_mode)]


def encoded(shape: Shape, mode: str, depth: Dim) -> Shape:
    """What an encoding of ``depth`` values makes of ``shape``, as Keras' layers return it:
    ``int`` keeps it; ``one_hot`` adds an axis (or replaces a last axis of 1); the others count
    over axis 1: ``(batch, n, ...)`` -> ``(batch, ..., depth)``, and a rank-1 input -> ``(depth,)``.

    >>> encoded((4, 3), "one_hot", 10), encoded((4, 1), "one_hot", 10), encoded((4, 3, 2), "count", 10)
    ((4, 3, 10), (4, 10), (4, 2, 10))
    >>> encoded((4,), "multi_hot", 10)
    (10,)
    """
    if mode == "int":
        return shape
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return (*shape[:-1], depth)
        return (*shape, depth)
    if len(shape) < 2:
        return (depth,)
    return (shape[0], *shape[2:], depth)


class CategoryOptions(Options):
    num_tokens: Size
    output_mode: OutputMode = "multi_hot"


def category_encoding(options: CategoryOptions, call: LayerCall) -> LayerOutput:
    """``CategoryEncoding``: integer ids below ``num_tokens`` encoded (it has no ``int`` mode)."""
    if options.output_mode in ("int", "tf_idf"):
        raise ShapecalcError(
            f"must be one_hot, multi_hot or count, got {shown(options.output_mode)}", option="output_mode"
        )
    return LayerOutput((encoded(call.single(), options.output_mode, options.num_tokens),))


class HashingOptions(Options):
    num_bins: Size
    output_mode: OutputMode = "int"


def hashing(options: HashingOptions, call: LayerCall) -> LayerOutput:
    """``Hashing``: each value hashed into ``num_bins`` bins, then encoded."""
    if options.output_mode == "tf_idf":
        raise ShapecalcError("must be int, one_hot, multi_hot or count, got 'tf_idf'", option="output_mode")
    return LayerOutput((encoded(call.single(), options.output_mode, options.num_bins),))


def hashed_crossing(options: HashingOptions, call: LayerCall) -> LayerOutput:
    """``HashedCrossing``: two features of the same shape, ``(batch,)`` or ``(batch, 1)``, crossed."""
    if len(call.inputs) != 2:
        raise ShapecalcError(f"takes two inputs, got {len(call.inputs)}")
    first, second = call.inputs
    for shape in call.inputs:
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise ShapecalcError(f"takes inputs of shape (batch,) or (batch, 1), got {format_shape(shape)}")
    if len(first) != len(second):
        raise ShapecalcError(
            f"takes two inputs of one shape, got {format_shape(first)} and {format_shape(second)}"
        )
    if options.output_mode not in ("int", "one_hot"):
        raise ShapecalcError(
            f"must be int or one_hot, got {shown(options.output_mode)}", option="output_mode"
        )
    return LayerOutput((encoded(first, options.output_mode, options.num_bins),))


def _boundaries(value: Any) -> int | None:
    """``bin_boundaries``: how many there are (their values do not change a shape)."""
    if value is None:
        return None
    numbers = isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )
    if not numbers:
        raise ShapecalcError(f"must be a list of numbers, got {shown(value)}")
    return len(value)


class DiscretizationOptions(Options):
    bin_boundaries: Annotated[int | None, PlainValidator(_boundaries)] = None
    num_bins: Count | None = None
    output_mode: OutputMode = "int"


def discretization(options: DiscretizationOptions, call: LayerCall) -> LayerOutput:
    """``Discretization``: ``len(bin_boundaries) + 1`` buckets; ``num_bins`` alone waits for ``adapt()``,
    whose boundaries a config does not keep."""
    if options.bin_boundaries is None:
        raise ShapecalcError(
            "is not in the config: the buckets come from adapt(), which a saved config does not keep",
            option="bin_boundaries",
        )
    if options.output_mode == "tf_idf":
        raise ShapecalcError("must be int, one_hot, multi_hot or count, got 'tf_idf'", option="output_mode")
    return LayerOutput((encoded(call.single(), options.output_mode, options.bin_boundaries + 1),))


def _vocabulary(value: Any) -> int | str | None:
    """A vocabulary: a list (its length is what counts), a file's name, or none yet."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return len(value)
    raise ShapecalcError(f"must be a list of tokens or a file name, got {shown(value)}")


#: A vocabulary as its size (from a list) or its file's name.
Vocabulary = Annotated[int | str | None, PlainValidator(_vocabulary)]


def _count_or_zero(value: Any) -> int:
    if value == 0 and not isinstance(value, bool):
        return 0
    return as_count(value)


class LookupOptions(Options):
    max_tokens: Count | None = None
    num_oov_indices: Annotated[int, PlainValidator(_count_or_zero)] = 1
    vocabulary: Vocabulary = None
    vocabulary_size: int | None = None
    invert: Flag = False
    output_mode: OutputMode = "int"
    pad_to_max_tokens: Flag = False


def vocabulary_depth(options: Any, oov: int) -> Dim:
    """The output size of a lookup: ``max_tokens`` when padded to it, else the vocabulary and the
    ``oov`` out-of-vocabulary indices (the mask token takes no column)."""
    if options.pad_to_max_tokens:
        if options.max_tokens is None:
            raise ShapecalcError("needs max_tokens", option="pad_to_max_tokens")
        return int(options.max_tokens)
    vocabulary = options.vocabulary
    if isinstance(vocabulary, int):
        return vocabulary + oov
    if isinstance(options.vocabulary_size, int) and not isinstance(options.vocabulary_size, bool):
        return options.vocabulary_size
    if isinstance(vocabulary, str):
        raise ShapecalcError(
            f"is the file {shown(vocabulary)}, which shapecalc does not read: its size is the output's",
            option="vocabulary",
        )
    raise ShapecalcError(
        "is not in the config (set it, or save the layer after adapt()): its size is the output's",
        option="vocabulary",
    )


def lookup(options: LookupOptions, call: LayerCall) -> LayerOutput:
    """``StringLookup`` and ``IntegerLookup``: ids of the same shape (``int``), or encoded over the
    vocabulary (``num_oov_indices`` out-of-vocabulary columns first)."""
    shape = call.single()
    if options.output_mode == "int" or options.invert:
        if options.invert and options.output_mode != "int":
            raise ShapecalcError("works only with output_mode 'int'", option="invert")
        return LayerOutput((shape,))
    return LayerOutput(
        (encoded(shape, options.output_mode, vocabulary_depth(options, options.num_oov_indices)),)
    )


class TextVectorizationOptions(Options):
    max_tokens: Count | None = None
    split: Given = True  # any splitter (whitespace, character, a function), or none
    output_mode: OutputMode = "int"
    output_sequence_length: Count | None = None
    pad_to_max_tokens: Flag = False
    vocabulary: Vocabulary = None
    vocabulary_size: int | None = None
    ragged: Flag = False


def text_vectorization(options: TextVectorizationOptions, call: LayerCall) -> LayerOutput:
    """``TextVectorization``: strings ``(batch,)`` or ``(batch, 1)`` split into tokens, then looked up.

    ``int``: ``(batch, output_sequence_length)``, or ``(batch, tokens)`` when the length is the
    longest text's; the counting modes: ``(batch, vocabulary)``. Unsplit (``split=None``), each
    string is one token and the shape is a lookup's (``output_sequence_length`` sets the last axis).
    """
    shape = call.single()
    mode = options.output_mode
    if mode == "one_hot":
        raise ShapecalcError("must be int, multi_hot, count or tf_idf, got 'one_hot'", option="output_mode")
    if mode != "int" and options.output_sequence_length is not None:
        raise ShapecalcError(
            f"works only with output_mode 'int', not {mode!r}", option="output_sequence_length"
        )
    if options.ragged and mode != "int":
        raise ShapecalcError(f"works only with output_mode 'int', not {mode!r}", option="ragged")
    if not options.split:
        if mode == "int":
            # output_sequence_length pads or cuts the last axis, whatever it is (the batch axis too).
            length = options.output_sequence_length
            return LayerOutput(((*shape[:-1], length) if length else shape,))
        return LayerOutput((encoded(shape, mode, vocabulary_depth(options, 1)),))
    if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise ShapecalcError(f"splits strings of shape (batch,) or (batch, 1), got {format_shape(shape)}")
    if mode == "int":
        return LayerOutput(((shape[0], options.output_sequence_length or TOKENS),))
    return LayerOutput(((shape[0], vocabulary_depth(options, 1)),))


#: What the lookups take that shapes never see.
LOOKUP_INERT = frozenset({"mask_token", "oov_token", "idf_weights", "sparse", "salt"})
RULES = (
    Rule(
        "Resizing",
        resizing,
        ResizingOptions,
        inert=frozenset(
            {
                "interpolation",
                "crop_to_aspect_ratio",
                "pad_to_aspect_ratio",
                "fill_mode",
                "fill_value",
                "antialias",
            }
        ),
    ),
    Rule("CenterCrop", resizing, ResizingOptions),
    # Keras 3.15 crops only when training; called for inference it returns the input unchanged,
    # though the model is built (and its next layers sized) for the crop.
    Rule("RandomCrop", resizing, ResizingOptions, inert=frozenset({"seed"})),
    *(_augmentation(name, inert, channels) for name, (inert, channels) in AUGMENTATIONS.items()),
    Rule(
        "RandomColorJitter",
        color_jitter,
        ColorJitterOptions,
        inert=frozenset({"value_range", "brightness_factor", "contrast_factor", "seed"}),
    ),
    Rule("Rescaling", rescaling, Options, inert=frozenset({"scale", "offset"})),
    Rule("Normalization", normalization, NormalizationOptions, inert=frozenset({"invert"})),
    Rule("CategoryEncoding", category_encoding, CategoryOptions, inert=frozenset({"sparse"})),
    Rule("Hashing", hashing, HashingOptions, inert=frozenset({"mask_value", "salt", "sparse"})),
    Rule("HashedCrossing", hashed_crossing, HashingOptions, inert=frozenset({"sparse"})),
    Rule("Discretization", discretization, DiscretizationOptions, inert=frozenset({"epsilon", "sparse"})),
    Rule("StringLookup", lookup, LookupOptions, inert=LOOKUP_INERT | {"encoding", "oov_method"}),
    Rule("IntegerLookup", lookup, LookupOptions, inert=LOOKUP_INERT | {"vocabulary_dtype", "oov_method"}),
    Rule(
        "TextVectorization",
        text_vectorization,
        TextVectorizationOptions,
        inert=frozenset({"standardize", "ngrams", "idf_weights", "sparse", "encoding"}),
    ),
)
