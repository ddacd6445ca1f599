"""Keras recurrent layers rebuilt from a file: the config when the file has one (``.keras``,
legacy ``.h5``), checked against the stored weights; the weights' shapes alone otherwise.

A ``.weights.h5`` cannot carry ``return_sequences``, ``return_state``, ``merge_mode`` or a
ConvLSTM's strides, padding and frame size: they take Keras's defaults and are listed as
``assumed``. The cell follows from the gate count (``recurrent_kernel`` columns over units:
4 LSTM, 3 GRU, 1 SimpleRNN), ``reset_after`` from the GRU bias's rank.

>>> role("bidirectional/forward_lstm/lstm_cell/recurrent_kernel", "bidirectional")
'forward/recurrent_kernel'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.weights.rebuild import rebuild_layer
from shapecalc.weights.result import GateSlice, RebuiltLayer
from shapecalc.weights.tensors import KerasLayer, StoredTensor, brief

KINDS = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "rnn", "ConvLSTM1D": "convlstm1d",
         "ConvLSTM2D": "convlstm", "ConvLSTM3D": "convlstm3d"}  # fmt: skip
CELLS = {4: "LSTM", 3: "GRU", 1: "SimpleRNN"}
WEIGHTS = ("kernel", "recurrent_kernel", "bias")
#: Config keys read as they are (the rest of a Keras config cannot change a shape).
SEQUENCE_KEYS = ("return_sequences", "return_state", "use_bias")
ACTIVATION_KEYS = ("activation", "recurrent_activation")
CONV_KEYS = ("strides", "padding", "dilation_rate", "data_format")


def role(name: str, path: str) -> str | None:
    """The engine's name for a file weight of layer ``path`` (``forward/kernel``), or ``None``."""
    parts = name[len(path) + 1 :].split("/") if name.startswith(f"{path}/") else []
    if not parts or parts[-1] not in WEIGHTS:
        return None
    for part in parts[:-1]:
        if part.startswith(("forward_", "backward_")):
            return f"{part.split('_')[0]}/{parts[-1]}"
    return parts[-1]


def rebuild_keras(
    layers: Sequence[KerasLayer], tensors: Sequence[StoredTensor]
) -> tuple[list[RebuiltLayer], list[str], dict[str, list[GateSlice]]]:
    """Every recurrent layer of a Keras file, the problems found, and the gate slices."""
    out: list[RebuiltLayer] = []
    problems: list[str] = []
    gates: dict[str, list[GateSlice]] = {}
    for layer in layers:
        names = {r: t.name for t in tensors if (r := role(t.name, layer.path)) is not None}
        shapes = {t.name: t.shape for t in tensors if t.name in names.values()}
        try:
            kind, options, assumed = _options(layer, names, shapes)
            rebuilt, found, slices = rebuild_layer(
                layer.path, kind, options, names, shapes, framework="keras", assumed=assumed
            )
        except (ValueError, ShapecalcError) as error:
            problems.append(f"{layer.path}: the layer cannot be rebuilt ({brief(error)})")
            continue
        out.append(rebuilt)
        problems += found
        gates.update(slices)
    return out, problems, gates


def _options(
    layer: KerasLayer, names: Mapping[str, str], shapes: Mapping[str, tuple[int, ...]]
) -> tuple[str, dict[str, Any], list[str]]:
    bidirectional = layer.class_name == "Bidirectional"
    prefix = "forward/" if bidirectional else ""
    kernel = shapes.get(names.get(f"{prefix}kernel", ""))
    recurrent = shapes.get(names.get(f"{prefix}recurrent_kernel", ""))
    bias = shapes.get(names.get(f"{prefix}bias", ""))
    cell = layer.inner if bidirectional else layer
    assumed: list[str] = []
    options: dict[str, Any] = {}
    if cell is not None and cell.config is not None and cell.class_name in KINDS:
        class_name, config = cell.class_name, cell.config
        options.update(_from_config(class_name, config))
        if bidirectional and layer.config is not None:
            options["bidirectional"] = True
            options["merge_mode"] = str(layer.config.get("merge_mode") or "none")
    else:
        if kernel is None or recurrent is None:
            raise ValueError("without a config, its kernel and recurrent_kernel are needed")
        class_name, config = _from_weights(kernel, recurrent), {}
        options.update(_from_shapes(class_name, kernel, recurrent, bias, assumed))
        if bidirectional:
            options["bidirectional"] = True
            assumed.append("merge_mode='concat' (the weights do not store it)")
        assumed += ["return_sequences=False (the weights do not store it)",
                    "return_state=False (the weights do not store it)"]  # fmt: skip
        if not class_name.startswith("ConvLSTM"):
            gates = "" if class_name == "SimpleRNN" else ", recurrent_activation='sigmoid'"
            assumed.append(f"activation='tanh'{gates} (the weights do not store them)")
    kind = KINDS[class_name]
    if kind.startswith("convlstm"):
        options["input_shape"] = _frame(layer, kernel, options, assumed)
    elif kernel is not None:
        options["input_dim"] = kernel[0]
    elif layer.input_shape and isinstance(layer.input_shape[-1], int):
        options["input_dim"] = layer.input_shape[-1]
    else:
        raise ValueError("neither its kernel nor its build config gives input_dim")
    return kind, options, assumed


def _from_config(class_name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if class_name.startswith("ConvLSTM"):
        options["filters"] = config.get("filters")
        options["kernel_size"] = config.get("kernel_size")
        options.update({key: config[key] for key in CONV_KEYS if key in config})
    else:
        options["units"] = config.get("units")
    options.update({key: config[key] for key in SEQUENCE_KEYS if key in config})
    if class_name == "GRU" and "reset_after" in config:
        options["reset_after"] = config["reset_after"]
    for key in ACTIVATION_KEYS if not class_name.startswith("ConvLSTM") else ():
        if isinstance(config.get(key), str):  # no shape depends on it; a port must keep it
            options[key] = config[key]
    return options


def _from_weights(kernel: tuple[int, ...], recurrent: tuple[int, ...]) -> str:
    if len(recurrent) < 2 or not recurrent[-2] or recurrent[-1] % recurrent[-2]:
        raise ValueError(f"recurrent_kernel {list(recurrent)} is not (units, gates * units)")
    gates = recurrent[-1] // recurrent[-2]
    if len(kernel) == 2 and gates in CELLS:
        return CELLS[gates]
    if len(kernel) in (3, 4, 5) and gates == 4:
        return f"ConvLSTM{len(kernel) - 2}D"
    raise ValueError(f"a kernel {list(kernel)} with {gates} gates is no Keras recurrent layer")


def _from_shapes(
    class_name: str,
    kernel: tuple[int, ...],
    recurrent: tuple[int, ...],
    bias: tuple[int, ...] | None,
    assumed: list[str],
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if class_name.startswith("ConvLSTM"):
        options["filters"], options["kernel_size"] = recurrent[-2], list(kernel[:-2])
        assumed += ["strides=1, padding='valid', dilation_rate=1, data_format='channels_last' "
                    "(the weights do not store them)"]  # fmt: skip
    else:
        options["units"] = recurrent[0]
    if bias is None:
        options["use_bias"] = False
        if class_name == "GRU":
            assumed.append("reset_after=True (Keras's default; a GRU without bias does not show it)")
    elif class_name == "GRU":
        options["reset_after"] = len(bias) == 2
    return options


def _frame(
    layer: KerasLayer, kernel: tuple[int, ...] | None, options: Mapping[str, Any], assumed: list[str]
) -> list[Any]:
    # A ConvLSTM's weights do not depend on the frame size: the build config gives it, if any.
    channels_first = options.get("data_format") == "channels_first"
    shape = layer.input_shape
    rank = len(kernel) - 2 if kernel is not None else len(options.get("kernel_size") or [1, 1])
    if shape is not None and len(shape) == rank + 3:
        frame = list(shape[2:])
    else:
        channels = kernel[-2] if kernel is not None else None
        spatial: list[Any] = [None] * rank
        frame = [channels, *spatial] if channels_first else [*spatial, channels]
        assumed.append("the frame size is not stored: its sizes are symbols")
    names = iter(("W", "H", "D"))
    return [size if size is not None else next(names) for size in frame]
