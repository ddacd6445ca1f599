"""``--to keras``: a Keras 3 ``.weights.h5`` and the Functional model (its ``to_json()``) that
``model.load_weights()`` fills from it.

The model has one ``Input`` per converted layer and, per layer, one Keras layer per level (a
PyTorch ``num_layers=2`` module becomes two, ``<name>_l0`` and ``<name>_l1``; a bidirectional
one ``Bidirectional(..., merge_mode="concat")``). Every level returns its sequences and its
states; the model's outputs are, per layer, the last level's sequences, then every level's final
states in Keras's order (``h``, and ``c`` for an LSTM; forward, then backward).

The HDF5 layout is the one Keras 3's ``saving_lib`` writes: a ``vars`` group per object with
the object's name as its ``name`` attribute, layers under ``layers/<class in snake case>[_n]``
in the model's layer order, a recurrent layer's variables under ``cell/vars/0..2`` (kernel,
recurrent kernel, bias), a ``Bidirectional``'s under ``forward_layer`` and ``backward_layer``.

>>> [level["name"] for level in levels(PortedLayer("enc", "gru", 3, 4, arrays={}, num_layers=2))]
['enc_l0', 'enc_l1']
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.portfile.layers import PortedLayer

CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}
CELLS = {"lstm": "lstm_cell", "gru": "gru_cell", "rnn": "simple_rnn_cell"}
STATES = {"lstm": 2, "gru": 1, "rnn": 1}
#: The variables of a cell, in the order Keras creates (and stores) them.
VARIABLES = ("kernel", "recurrent_kernel", "bias")
FLOAT32 = {
    "module": "keras",
    "class_name": "DTypePolicy",
    "config": {"name": "float32"},
    "registered_name": None,
}


def _initializer(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"module": "keras.initializers", "class_name": name, "config": config, "registered_name": None}


def layer_name(layer: PortedLayer) -> str:
    """The Keras name of a layer (Keras refuses ``/`` in names; a top-level module is unnamed)."""
    return layer.name.replace("/", "_") or layer.cell


def levels(layer: PortedLayer) -> list[dict[str, Any]]:
    """Each level's Keras name and the prefix of its weights in ``layer.arrays``."""
    name = layer_name(layer)
    if layer.num_layers == 1:
        return [{"name": name, "prefix": ""}]
    return [{"name": f"{name}_l{k}", "prefix": f"l{k}/"} for k in range(layer.num_layers)]


def _cell_config(layer: PortedLayer, name: str, *, backwards: bool, inner: bool) -> dict[str, Any]:
    """A recurrent layer's config exactly as Keras 3 serializes it (every default spelled)."""
    config: dict[str, Any] = {
        "name": name, "trainable": True, "dtype": FLOAT32, "return_sequences": True,
        "return_state": True, "go_backwards": backwards, "stateful": False, "unroll": False,
        "zero_output_for_mask": inner, "units": layer.hidden_size, "activation": layer.activation,
    }  # fmt: skip
    if layer.cell != "rnn":
        config["recurrent_activation"] = "sigmoid"
    config["use_bias"] = layer.use_bias
    config["kernel_initializer"] = _initializer(
        "GlorotUniform", {"seed": None, "input_axes": None, "output_axes": None}
    )
    config["recurrent_initializer"] = _initializer("Orthogonal", {"seed": None, "gain": 1.0})
    config["bias_initializer"] = _initializer("Zeros", {})
    if layer.cell == "lstm":
        config["unit_forget_bias"] = True
    for key in ("kernel", "recurrent", "bias", "activity"):
        config[f"{key}_regularizer"] = None
    for key in ("kernel", "recurrent", "bias"):
        config[f"{key}_constraint"] = None
    config["dropout"] = 0.0
    config["recurrent_dropout"] = 0.0
    if layer.cell == "gru":
        config["reset_after"] = layer.reset_after
    if layer.cell != "rnn":
        config["seed"] = None
    return config


def _tensor(shape: list[Any], history: list[Any]) -> dict[str, Any]:
    config = {"shape": shape, "dtype": "float32", "keras_history": history}
    return {"class_name": "__keras_tensor__", "config": config}


def describe(layer: PortedLayer) -> str:
    """The Keras layer each level is, as a person writes it.

    >>> describe(PortedLayer("enc", "gru", 3, 4, arrays={}, bidirectional=True, use_bias=False))
    'Bidirectional(GRU(4, use_bias=False))'
    """
    words = [str(layer.hidden_size)]
    if layer.activation != "tanh":
        words.append(f"activation={layer.activation!r}")
    if not layer.use_bias:
        words.append("use_bias=False")
    if layer.cell == "gru" and not layer.reset_after:
        words.append("reset_after=False")
    text = f"{CLASSES[layer.cell]}({', '.join(words)})"
    return f"Bidirectional({text})" if layer.bidirectional else text


def _input_name(layer: PortedLayer, layers: Sequence[PortedLayer]) -> str:
    return f"{layer_name(layer)}_input" if len(layers) > 1 else "input"


def model_order(layers: Sequence[PortedLayer]) -> list[tuple[PortedLayer, dict[str, Any] | None]]:
    """The model's layers in Keras's order (``model.layers``, which ``.weights.h5`` follows):
    deepest from the outputs first, then as built. ``None`` stands for a layer's ``Input``."""
    built: list[tuple[int, PortedLayer, dict[str, Any] | None]] = []
    for layer in layers:
        built.append((layer.num_layers, layer, None))
        built += [(layer.num_layers - 1 - k, layer, level) for k, level in enumerate(levels(layer))]
    return [(layer, level) for _, layer, level in sorted(built, key=lambda item: -item[0])]


def model_config(layers: Sequence[PortedLayer], name: str = "ported") -> dict[str, Any]:
    """The Functional model's ``to_json()`` document."""
    entries: dict[str, dict[str, Any]] = {}
    inputs: list[list[Any]] = []
    outputs: list[list[Any]] = []
    for layer in layers:
        input_name = _input_name(layer, layers)
        shape: list[Any] = [None, None, layer.input_size]
        entries[input_name] = {
            "module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "ragged": False,
                       "name": input_name, "optional": False},
            "registered_name": None, "name": input_name, "inbound_nodes": [],
        }  # fmt: skip
        inputs.append([input_name, 0, 0])
        previous, states = [input_name, 0, 0], []
        for level in levels(layer):
            entries[level["name"]] = _level_entry(layer, level["name"], shape, previous)
            count = STATES[layer.cell] * layer.directions
            states += [[level["name"], 0, 1 + k] for k in range(count)]
            previous = [level["name"], 0, 0]
            shape = [None, None, layer.hidden_size * layer.directions]
        outputs += [previous, *states]
    order = [
        _input_name(layer, layers) if level is None else level["name"] for layer, level in model_order(layers)
    ]
    config = {
        "name": name, "trainable": True, "layers": [entries[key] for key in order],
        "input_layers": inputs[0] if len(inputs) == 1 else inputs,
        "output_layers": outputs[0] if len(outputs) == 1 else outputs,
    }  # fmt: skip
    return {
        "module": "keras.src.models.functional", "class_name": "Functional", "config": config,
        "registered_name": "Functional", "build_config": {"input_shape": None}, "compile_config": {},
    }  # fmt: skip


def _level_entry(layer: PortedLayer, name: str, shape: list[Any], previous: list[Any]) -> dict[str, Any]:
    class_name = CLASSES[layer.cell]
    call = {"args": [_tensor(shape, previous)], "kwargs": {"training": False, "mask": None}}
    if not layer.bidirectional:
        config = _cell_config(layer, name, backwards=False, inner=False)
    else:
        inner = _snake(class_name)
        config = {
            "name": name, "trainable": True, "dtype": FLOAT32, "merge_mode": "concat",
            "layer": _inner(layer, f"forward_{inner}", shape, backwards=False),
            "backward_layer": _inner(layer, f"backward_{inner}", shape, backwards=True),
        }  # fmt: skip
        class_name, call["kwargs"] = "Bidirectional", {"mask": None}
    return {
        "module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None,
        "build_config": {"input_shape": shape}, "name": name, "inbound_nodes": [call],
    }  # fmt: skip


def _inner(layer: PortedLayer, name: str, shape: list[Any], *, backwards: bool) -> dict[str, Any]:
    return {
        "module": "keras.layers", "class_name": CLASSES[layer.cell],
        "config": _cell_config(layer, name, backwards=backwards, inner=True),
        "registered_name": None, "build_config": {"input_shape": shape},
    }  # fmt: skip


def model_json(layers: Sequence[PortedLayer]) -> bytes:
    """The model document as ``to_json()`` prints it."""
    return json.dumps(model_config(layers)).encode()


def weights_bytes(layers: Sequence[PortedLayer], name: str = "ported") -> bytes:
    """The ``.weights.h5`` file for :func:`model_config`'s model, in Keras 3's layout."""
    try:
        import h5py  # only when a .weights.h5 is written: an optional extra
    except ImportError:
        raise ShapecalcError("writing .weights.h5 needs h5py: pip install 'shapecalc[h5]'") from None
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        _named(h5, "", name)
        used: dict[str, int] = {}
        for layer, level in model_order(layers):
            if level is None:
                _named(h5, f"layers/{_unique('input_layer', used)}", _input_name(layer, layers))
                continue
            inner = _snake(CLASSES[layer.cell])
            path = f"layers/{_unique('bidirectional' if layer.bidirectional else inner, used)}"
            _named(h5, path, level["name"])
            if not layer.bidirectional:
                _cell(h5, f"{path}/cell", layer, level["prefix"])
                continue
            for side in ("forward", "backward"):
                _named(h5, f"{path}/{side}_layer", f"{side}_{inner}")
                _cell(h5, f"{path}/{side}_layer/cell", layer, f"{level['prefix']}{side}/")
    return buffer.getvalue()


def _snake(class_name: str) -> str:
    """keras.src.utils.naming.to_snake_case: ``SimpleRNN`` -> ``simple_rnn``.

    >>> _snake("SimpleRNN"), _snake("GRU"), _snake("Bidirectional")
    ('simple_rnn', 'gru', 'bidirectional')
    """
    words = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", words).lower()


def _unique(name: str, used: dict[str, int]) -> str:
    # saving_lib's _get_unique_name: the first is ``lstm``, then ``lstm_1``, ``lstm_2``...
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _named(h5: Any, path: str, name: str) -> Any:
    group = h5.create_group(f"{path}/vars" if path else "vars")
    group.attrs["name"] = name
    return group


def _cell(h5: Any, path: str, layer: PortedLayer, prefix: str) -> None:
    group = _named(h5, path, CELLS[layer.cell])
    names = VARIABLES if layer.use_bias else VARIABLES[:2]
    for index, variable in enumerate(names):
        group[str(index)] = layer.arrays[f"{prefix}{variable}"]
