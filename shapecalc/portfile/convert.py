"""``shapecalc port FILE --to X``'s engine: each recurrent layer of a checkpoint read, its recipe
made, its values read and moved, and the target file's bytes built. No file is written here.

The layers come from :func:`shapecalc.weights.reader.read_weights` (the config each one's
tensors determine, and the engine's names for its tensors); each goes through
:func:`shapecalc.port.recipe.port_recipe` and :func:`shapecalc.port.apply.apply_recipe`. A
refusal of any layer refuses the whole file (nothing is written); the file's other layers
(an embedding, a dense head, a ConvLSTM) are listed as not converted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapecalc.errors import ShapecalcError, shown
from shapecalc.portfile.layers import PortedLayer
from shapecalc.weights.result import RebuiltLayer, WeightsResult

TARGETS = ("torch", "keras", "onnx")
#: What each target writes, as the summary names it.
TARGET_FILES = {"torch": "PyTorch state_dict (safetensors)", "keras": "Keras 3 .weights.h5",
                "onnx": "ONNX model"}  # fmt: skip
SOURCE_CLASSES = {
    "keras": {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"},
    "torch": {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"},
    "onnx": {"lstm": "LSTM node", "gru": "GRU node", "rnn": "RNN node"},
}


@dataclass(frozen=True)
class ConvertedLayer:
    """One source layer and what it became: the target's layers, keys and shapes."""

    name: str
    source: str
    layer: PortedLayer
    #: The file's keys (or initializer names) of this layer, with their shapes.
    keys: tuple[tuple[str, tuple[int, ...]], ...]
    #: The target's constructor(s) (``nn.LSTM(...)``), the Keras layers or the ONNX nodes.
    target: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "target": self.target,
            "tensors": [{"name": key, "shape": list(shape)} for key, shape in self.keys],
            "notes": list(self.notes),
        }


@dataclass
class Conversion:
    """Everything ``shapecalc port`` found and built, before anything is written."""

    file: str
    format: str
    to: str
    layers: list[ConvertedLayer]
    #: Groups of the file that are not converted, and why.
    skipped: list[tuple[str, str]]
    #: (suffix of the output path or "", bytes): the main file, then any file beside it.
    payloads: list[tuple[str, bytes]] = field(default_factory=list)

    def to_json(self, written: Sequence[str]) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "file": self.file,
            "format": self.format,
            "to": self.to,
            "layers": [layer.to_json() for layer in self.layers],
            "not_converted": [{"name": name, "reason": why} for name, why in self.skipped],
            "written": list(written),
        }


def convert_file(path: str | Path, to: str) -> Conversion:
    """The recurrent layers of the weights file ``path`` converted to framework ``to``."""
    from shapecalc.weights.reader import read_weights  # the readers load only when a port runs

    if to not in TARGETS:
        raise ShapecalcError(f"must be one of {', '.join(TARGETS)}, got {shown(to)}", option="to")
    result = read_weights(path)
    convertible, skipped = _split(result)
    if result.problems and convertible:
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        raise ShapecalcError(
            f"the tensors contradict their config, nothing is converted: {result.problems[0]}{more}",
            where=result.file,
        )
    if not convertible:
        raise ShapecalcError("no recurrent layer (LSTM, GRU, RNN) to convert", where=result.file)
    recipes = [(layer, _recipe(layer, to, result.file)) for layer in convertible]
    values = _values(Path(path), result, convertible)
    ported = [_ported(layer, recipe, _apply(recipe, layer, values), to) for layer, recipe in recipes]
    conversion = Conversion(result.file, result.format, to, [], skipped)
    conversion.layers = [
        _described(layer, p, ported, to) for layer, p in zip(convertible, ported, strict=True)
    ]
    conversion.payloads = _payloads(ported, to)
    return conversion


def _split(result: WeightsResult) -> tuple[list[RebuiltLayer], list[tuple[str, str]]]:
    convertible, skipped = [], []
    for layer in result.layers:
        if layer.config is None or getattr(layer.config, "cell", None) not in ("lstm", "gru", "rnn"):
            skipped.append((layer.name, f"{layer.result.layer} is not converted (LSTM, GRU and RNN are)"))
        else:
            convertible.append(layer)
    used = {name for layer in result.layers for name in layer.tensors}
    for group in dict.fromkeys(row.group for row in result.tensors if row.tensor.name not in used):
        skipped.append((group or "(top level)", "not a recurrent layer"))
    return convertible, skipped


#: What a file may not store but no weight depends on: not worth a note in a port.
NO_WEIGHT = ("return_sequences", "return_state", "batch_first")
#: ONNX's default activations per direction (what the recipes port).
ONNX_ACTIVATIONS = {"lstm": ["Sigmoid", "Tanh", "Tanh"], "gru": ["Sigmoid", "Tanh"], "rnn": ["Tanh"]}


def _onnx_attributes(layer: RebuiltLayer) -> None:
    """Refuse an ONNX node whose activations or clip the recipes do not port (an RNN's Relu in
    every direction was read as its ``nonlinearity``, not assumed)."""
    cell = str(getattr(layer.config, "cell", ""))
    directions = 2 if getattr(layer.config, "direction", "") == "bidirectional" else 1
    allowed = {f"activations={ONNX_ACTIVATIONS.get(cell, [])!r}",
               f"activations={ONNX_ACTIVATIONS.get(cell, []) * directions!r}"}  # fmt: skip
    for assumed in layer.assumed:
        if assumed.startswith("clip="):
            raise ShapecalcError(f"{assumed}: PyTorch and Keras cells do not clip", option="clip")
        if assumed.startswith("activations=") and assumed not in allowed:
            relu = " (or an RNN's Relu in every direction)" if cell == "rnn" else ""
            raise ShapecalcError(
                f"{assumed}: shapecalc ports ONNX's default activations{relu} only", option="activations"
            )


def _recipe(layer: RebuiltLayer, to: str, file: str) -> Any:
    from shapecalc.port.recipe import port_recipe  # the recipe engine loads only when a port runs

    try:
        if layer.framework == "onnx":
            _onnx_attributes(layer)
        return port_recipe(layer.config, to)  # type: ignore[arg-type]
    except ShapecalcError as error:
        name = layer.name or "(top level)"
        raise ShapecalcError(f"layer {shown(name)}: {error}", where=file) from None


def _values(path: Path, result: WeightsResult, layers: Sequence[RebuiltLayer]) -> dict[str, Any]:
    from shapecalc.weights.values import read_values

    wanted = {name for layer in layers for name in layer.names.values()}
    tensors = [row.tensor for row in result.tensors if row.tensor.name in wanted]
    return read_values(path, result.format, tensors)


def _apply(recipe: Any, layer: RebuiltLayer, values: Mapping[str, Any]) -> dict[str, Any]:
    from shapecalc.port.apply import apply_recipe

    weights = {engine: values[file] for engine, file in layer.names.items()}
    arrays: dict[str, Any] = apply_recipe(recipe, weights)
    return arrays


def _ported(layer: RebuiltLayer, recipe: Any, arrays: Mapping[str, Any], to: str) -> PortedLayer:
    """The recipe's target layers as one :class:`PortedLayer` (a stack: ``l<k>/`` per level)."""
    configs = [target.config for target in recipe.layers]
    first = configs[0]
    stacked = len(configs) > 1
    renamed: dict[str, Any] = {}
    for k, target in enumerate(recipe.layers):
        for name, array in arrays.items():
            if name.startswith(target.prefix) and (target.prefix or not stacked):
                renamed[(f"l{k}/" if stacked else "") + name[len(target.prefix) :]] = array
    activation = "tanh"
    if to == "keras":
        sizes, levels = (int(first.input_dim), int(first.units)), len(configs)
        bidirectional, reset_after = bool(first.bidirectional), bool(first.reset_after)
        activation = str(first.activation)
    elif to == "torch":
        sizes, levels = (int(first.input_size), int(first.hidden_size)), int(first.num_layers)
        bidirectional, reset_after = bool(first.bidirectional), True
        activation = str(first.nonlinearity)
    else:
        sizes, levels = (int(first.input_size), int(first.hidden_size)), len(configs)
        bidirectional = first.direction == "bidirectional"
        activation = str(first.nonlinearity)
        reset_after = bool(first.linear_before_reset) if first.cell == "gru" else True
    cls = SOURCE_CLASSES.get(layer.framework, {}).get(str(recipe.cell), layer.result.layer)
    if layer.framework == "keras" and getattr(layer.config, "bidirectional", False):
        cls = f"Bidirectional({cls})"
    return PortedLayer(
        layer.name, str(first.cell), sizes[0], sizes[1], renamed, bidirectional=bidirectional,
        num_layers=levels, use_bias=bool(first.use_bias), reset_after=reset_after, activation=activation,
        source=f"{cls} {shown(layer.name or '(top level)')}",
    )  # fmt: skip


def _described(
    layer: RebuiltLayer, ported: PortedLayer, every: Sequence[PortedLayer], to: str
) -> ConvertedLayer:
    from shapecalc.portfile import keras_file, onnx_file, torch_file

    several = len(every) > 1
    if to == "torch":
        keys = [(key, name) for key, (owner, name) in torch_file.keys(every).items() if owner is ported]
        target = torch_file.constructor(ported, batch_first=layer.framework == "keras")
    elif to == "keras":
        levels = keras_file.levels(ported)
        keys = [(_keras_key(name, levels), name) for name in ported.arrays]
        target = f"{keras_file.describe(ported)}: {', '.join(level['name'] for level in levels)}"
    else:
        prefix = f"{ported.name}." if several else ""
        keys = [(prefix + name.replace("/", "."), name) for name in ported.arrays]
        op = onnx_file.OPS[ported.cell]
        target = f"{ported.num_layers} {op} node{'s' if ported.num_layers > 1 else ''}"
    shapes = tuple((key, tuple(int(s) for s in ported.arrays[name].shape)) for key, name in keys)
    notes = tuple(f"assumed {assumed}" for assumed in layer.assumed if not assumed.startswith(NO_WEIGHT))
    return ConvertedLayer(layer.name or "(top level)", ported.source, ported, shapes, target, notes)


def _keras_key(name: str, levels: Sequence[Mapping[str, str]]) -> str:
    for level in levels:
        if level["prefix"] and name.startswith(level["prefix"]):
            return f"{level['name']}/{name[len(level['prefix']) :]}"
    return f"{levels[0]['name']}/{name}"


def _payloads(layers: Sequence[PortedLayer], to: str) -> list[tuple[str, bytes]]:
    if to == "torch":
        from shapecalc.portfile.torch_file import torch_bytes

        return [("", torch_bytes(layers))]
    if to == "keras":
        from shapecalc.portfile.keras_file import model_json, weights_bytes

        return [("", weights_bytes(layers)), (".json", model_json(layers))]
    from shapecalc.portfile.onnx_file import onnx_bytes

    return [("", onnx_bytes(layers))]


def beside(out: str, suffix: str) -> str:
    """The path of a file written beside ``out``: ``m.weights.h5`` -> ``m.json``.

    >>> beside("out/m.weights.h5", ".json"), beside("m.onnx", "")
    ('out/m.json', 'm.onnx')
    """
    if not suffix:
        return out
    return out.removesuffix(".weights.h5") + suffix
