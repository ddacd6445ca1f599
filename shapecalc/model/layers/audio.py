"""Audio layers: spectrograms of waveforms.

>>> from shapecalc.dims import sym
>>> out = mel_spectrogram(MelOptions(fft_length=256, sequence_stride=100, num_mel_bins=20),
...                       LayerCall(((sym("batch"), 16000),)))
>>> out.shapes
((Expr('batch'), 20, 161),)
"""

from __future__ import annotations

from typing import Literal

from shapecalc.dims import Dim, floordiv, format_shape
from shapecalc.errors import ShapecalcError
from shapecalc.geometry import conv_output_length, never_at_least, valid_padding_constraint
from shapecalc.model.graph import Shape
from shapecalc.model.layers.base import LayerCall, LayerOutput, Rule, require_rank
from shapecalc.model.options import Count, DataFormat, Flag, Options


class MelOptions(Options):
    fft_length: Count = 2048
    sequence_stride: Count = 512
    num_mel_bins: Count = 128


def mel_spectrogram(options: MelOptions, call: LayerCall) -> LayerOutput:
    """``MelSpectrogram``: ``(batch, samples)`` -> ``(batch, num_mel_bins, frames)``.

    The waveform is padded by ``fft_length // 2`` on each side (reflected, so it must be longer
    than that), then cut every ``sequence_stride`` samples: ``frames = (samples + 2*(fft_length//2)
    - fft_length) // sequence_stride + 1``. Leading axes before the samples are kept.
    """
    shape = call.single()
    if len(shape) < 2:
        raise ShapecalcError(f"expects waveforms (batch, samples), got {format_shape(shape)}")
    samples, half = shape[-1], options.fft_length // 2
    if never_at_least(samples, half + 1):
        raise ShapecalcError(
            f"pads {half} samples on each side by reflection, which needs more than {half} samples, "
            f"got {format_shape(shape)}",
            option="fft_length",
        )
    frames = floordiv(samples + 2 * half - options.fft_length, options.sequence_stride) + 1
    constraints = () if isinstance(samples, int) else (f"{samples} >= {half + 1}",)
    return LayerOutput(((*shape[:-1], options.num_mel_bins, frames),), constraints=constraints)


STFT_MODES = Literal["log", "magnitude", "psd", "real", "imag", "angle", "stft"]


class STFTOptions(Options):
    mode: STFT_MODES = "log"
    frame_length: Count = 256
    frame_step: Count | None = None
    fft_length: Count | None = None
    padding: Literal["valid", "same"] = "valid"
    expand_dims: Flag = False
    data_format: DataFormat = "channels_last"


def stft_spectrogram(options: STFTOptions, call: LayerCall) -> LayerOutput:
    """``STFTSpectrogram``: ``(batch, samples, channels)`` -> ``(batch, frames, bins*channels)``.

    Frames are a convolution's windows (``frame_length`` every ``frame_step``, default half a
    frame); ``bins`` is ``fft_length // 2 + 1`` (``fft_length`` defaults to the power of two at
    least ``frame_length``), twice that for ``mode='stft'`` (real and imaginary parts);
    ``expand_dims`` keeps the channels apart: ``(batch, frames, bins, channels)``. The real and
    imaginary kernels, ``(frame_length, 1, fft_length//2 + 1)`` each, are weights (``real``
    mode has only the first, ``imag`` only the second).
    """
    shape = call.single()
    channels_last = options.data_format == "channels_last"
    layout = "(batch, samples, channels)" if channels_last else "(batch, channels, samples)"
    require_rank(shape, 3, layout)
    samples, channels = (shape[1], shape[2]) if channels_last else (shape[2], shape[1])
    frame, step = options.frame_length, options.frame_step or options.frame_length // 2
    if step > frame:
        raise ShapecalcError(f"must be at most frame_length ({frame}), got {step}", option="frame_step")
    fft = options.fft_length or 1 << (frame - 1).bit_length()
    if fft < frame:
        raise ShapecalcError(f"must be at least frame_length ({frame}), got {fft}", option="fft_length")
    constraints: tuple[str, ...] = ()
    if options.padding == "valid":
        try:
            condition = valid_padding_constraint(samples, frame, 1, "samples")
        except ShapecalcError as error:
            raise ShapecalcError(error.message, option="frame_length") from None
        constraints = (condition,) if condition else ()
    frames: Dim = conv_output_length(samples, frame, step, options.padding)
    bins = fft // 2 + 1
    kernels = 2 - (options.mode in ("real", "imag"))
    params = kernels * frame * bins
    per_channel = bins * (2 if options.mode == "stft" else 1)
    output: Shape
    if options.expand_dims:
        output = (
            (shape[0], frames, per_channel, channels)
            if channels_last
            else (shape[0], channels, frames, per_channel)
        )
    elif channels_last:
        output = (shape[0], frames, per_channel * channels)
    else:
        output = (shape[0], per_channel * channels, frames)
    return LayerOutput((output,), params, constraints=constraints)


MEL_INERT = {"sequence_length", "window", "sampling_rate", "min_freq", "max_freq", "power_to_db", "top_db"}

RULES = (
    Rule(
        "MelSpectrogram",
        mel_spectrogram,
        MelOptions,
        inert=frozenset(MEL_INERT | {"mag_exp", "min_power", "ref_power"}),
    ),
    Rule(
        "STFTSpectrogram", stft_spectrogram, STFTOptions, inert=frozenset({"window", "periodic", "scaling"})
    ),
)
