"""Keras files: ``.keras`` archives (``config.json`` + ``model.weights.h5``), Keras 3
``.weights.h5`` files, and legacy ``.h5`` files (``model_config`` + ``model_weights``).

HDF5 is read with h5py (the optional extra ``shapecalc[h5]``), imported only here. Every
weight is named by Keras's ``variable.path`` (``lstm/lstm_cell/kernel``); a Keras 3 file
stores variables by position (``vars/0``), so the names come from each layer's class (its
config, or, in a bare ``.weights.h5``, its name). Only shapes and dtypes are read.

>>> variable_names("LSTMCell", 3)
['kernel', 'recurrent_kernel', 'bias']
>>> variable_names("BatchNormalization", 4)
['gamma', 'beta', 'moving_mean', 'moving_variance']
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import IO, Any

from shapecalc.errors import ShapecalcError
from shapecalc.weights.tensors import (
    FileContents,
    KerasLayer,
    StoredTensor,
    TensorSummary,
    brief,
    checked_shape,
)

#: The recurrent classes rebuilt from a Keras file (a ``Bidirectional`` of one of them too).
RECURRENT = ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
#: Largest ``config.json`` read (the same bound as ``shapecalc model``).
MAX_CONFIG = 64 * 2**20
#: A layer's variables, in the order Keras creates (and a ``.weights.h5`` stores) them.
VARIABLES = {
    "cell": ("kernel", "recurrent_kernel", "bias"),
    "Dense": ("kernel", "bias"),
    "EinsumDense": ("kernel", "bias"),
    "Embedding": ("embeddings",),
    "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance"),
    "LayerNormalization": ("gamma", "beta"),
    **{f"Conv{n}D": ("kernel", "bias") for n in (1, 2, 3)},
    **{f"Conv{n}DTranspose": ("kernel", "bias") for n in (1, 2, 3)},
}
#: Layer names Keras gives by default (``batch_normalization_2``) -> the class.
DEFAULT_NAMES = {
    re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("conv_", "conv").replace("_d", "d"): name
    for name in VARIABLES
    if name != "cell"
}
DEFAULT_NAMES.update(
    {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN", "bidirectional": "Bidirectional"}
)
DEFAULT_NAMES.update({f"conv_lstm{n}d": f"ConvLSTM{n}D" for n in (1, 2, 3)})


def variable_names(class_name: str | None, count: int, config: Mapping[str, Any] | None = None) -> list[str]:
    """The names of a layer's ``count`` stored variables; ``index`` names when the class is unknown."""
    names = list(
        VARIABLES.get("cell" if class_name and class_name.endswith("Cell") else class_name or "", ())
    )
    if class_name == "BatchNormalization" and config is not None:
        names = [n for n in names if (n != "gamma" or config.get("scale", True))]
        names = [n for n in names if (n != "beta" or config.get("center", True))]
    if class_name in ("Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D") and count == 1:
        names = names[:1]
    if len(names) < count:
        names += [str(index) for index in range(len(names), count)]
    return names[:count]


def h5py_module() -> Any:
    """h5py, or one line saying how to install it."""
    try:
        import h5py  # only on the HDF5 path: an optional extra
    except ImportError:
        raise ShapecalcError("reading HDF5 needs h5py: pip install 'shapecalc[h5]'") from None
    return h5py


def read_keras_archive(handle: IO[bytes]) -> FileContents:
    """A ``.keras`` archive: the layer configs from ``config.json``, the weights' shapes from
    ``model.weights.h5`` (read in place inside the zip)."""
    try:
        archive = zipfile.ZipFile(handle)
        with archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG:
                raise ValueError(f"config.json is larger than {MAX_CONFIG // 2**20} MB")
            with archive.open(info) as stream:
                document = _json(stream.read(MAX_CONFIG + 1), "config.json")
            if "model.weights.h5" not in archive.namelist():
                contents = FileContents("keras", [])
            else:
                h5py = h5py_module()
                with archive.open("model.weights.h5") as stream, h5py.File(stream, "r") as h5:
                    contents = _keras3_weights(h5, _configs(document), "keras")
    except KeyError as error:
        raise ValueError(f"not a .keras archive ({error.args[0]!r} is missing)") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"not a readable .keras archive ({brief(error)})") from None
    contents.metadata = _model_metadata(document)
    return contents


def read_keras_h5(handle: IO[bytes]) -> FileContents:
    """A Keras 3 ``.weights.h5`` or a legacy ``.h5`` model (``ValueError`` for other HDF5 files)."""
    h5py = h5py_module()
    try:
        with h5py.File(handle, "r") as h5:
            if "model_config" in h5.attrs or "model_weights" in h5:
                return _legacy(h5)
            if "layer_names" in h5.attrs:  # a legacy save_weights() file: weights only
                return _legacy_weights(h5, h5, None, "keras-h5")
            if "layers" in h5 or "vars" in h5:
                return _keras3_weights(h5, {}, "keras-weights")
    except (OSError, KeyError, RuntimeError, TypeError, zlib.error) as error:
        raise ValueError(f"not a readable HDF5 file ({brief(error)})") from None
    raise ValueError("an HDF5 file that is not a Keras model or weights file (no layers, model_weights)")


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"{what} is not JSON ({brief(error)})") from None


def _model_metadata(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        return {}
    config = document.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    return {"model": name, "class_name": document.get("class_name")} if name else {}


def _configs(document: Any) -> dict[str, KerasLayer]:
    """Every layer of a model config by name (nested models' layers included)."""
    out: dict[str, KerasLayer] = {}

    def visit(model: Any, depth: int) -> None:
        config = model.get("config") if isinstance(model, dict) else None
        layers = config.get("layers") if isinstance(config, dict) else None
        if not isinstance(layers, list) or depth > 50:
            return
        for entry in layers:
            layer = _layer(entry)
            if layer is not None:
                out.setdefault(layer.path, layer)
            if isinstance(entry, dict) and entry.get("class_name") in ("Sequential", "Functional", "Model"):
                visit(entry, depth + 1)

    visit(document, 0)
    return out


def _layer(entry: Any) -> KerasLayer | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        return None
    config = entry["config"]
    name = config.get("name") or entry.get("name")
    if not isinstance(name, str):
        return None
    inner = _layer(config.get("layer")) if entry.get("class_name") == "Bidirectional" else None
    build = entry.get("build_config")
    shape = build.get("input_shape") if isinstance(build, dict) else None
    input_shape = tuple(shape) if isinstance(shape, list) and all(
        s is None or (isinstance(s, int) and not isinstance(s, bool) and s > 0) for s in shape
    ) else None  # fmt: skip
    return KerasLayer(name, str(entry.get("class_name")), config, inner, input_shape)


def _dataset(name: str, dataset: Any) -> StoredTensor:
    try:
        dtype = str(dataset.dtype)
    except TypeError:  # a string or compound dataset
        dtype = "string"
    # The storage is the dataset's path in the file, where its values are read.
    return StoredTensor(name, checked_shape(list(dataset.shape or ()), name), dtype, storage=(dataset.name,))


def _keras3_weights(h5: Any, configs: Mapping[str, KerasLayer], fmt: str) -> FileContents:
    tensors: list[StoredTensor] = []
    layers: list[KerasLayer] = []
    # Groups are keyed by class (``lstm_1`` is the model's second LSTM); the layer's own name,
    # which configs and variable paths use, is its vars group's ``name``.
    groups = {_vars_name(group) or key: (key, group) for key, group in _children(h5.get("layers"))}
    order = [name for name in configs if name in groups] + sorted(
        name for name in groups if name not in configs
    )
    for name in order:
        key, group = groups[name]
        layer = configs.get(name) or KerasLayer(name, _guess_class(key), None)
        tensors += _layer_variables(group, [], layer.class_name, layer.config, 0)
        if layer.class_name in RECURRENT or layer.class_name == "Bidirectional":
            layers.append(layer)
    others = []
    if "optimizer" in h5:
        state = list(_layer_variables(h5["optimizer"], ["optimizer"], None, None, 0))
        if state:
            others.append(TensorSummary("optimizer state", len(state), sum(t.bytes for t in state)))
    return FileContents(fmt, tensors, others=others, keras_layers=layers)


def _vars_name(group: Any) -> str | None:
    vars_group = group.get("vars") if group is not None else None
    name = vars_group.attrs.get("name") if vars_group is not None else None
    return name.decode() if isinstance(name, bytes) else name


def _guess_class(name: str) -> str | None:
    return DEFAULT_NAMES.get(re.sub(r"_\d+$", "", name))


#: Sub-groups in the order Keras creates their variables (h5py lists them alphabetically).
CHILD_ORDER = {"vars": 0, "cell": 1, "forward_layer": 2, "backward_layer": 3}


def _children(group: Any) -> Iterator[tuple[str, Any]]:
    if group is None or not hasattr(group, "keys"):
        return
    for key in sorted(group, key=lambda key: (CHILD_ORDER.get(key, 4), key)):
        child = group[key]
        if hasattr(child, "keys"):
            yield key, child


def _layer_variables(
    group: Any, path: list[str], class_name: str | None, config: Mapping[str, Any] | None, depth: int
) -> Iterator[StoredTensor]:
    """The variables under one layer's group, named ``<layer>/<sublayer>/<variable>``."""
    if depth > 50:
        raise ValueError("the weights file nests layers more than 50 deep")
    own = _vars_name(group)
    here = [*path, own] if own and path != ["optimizer"] else path
    vars_group = group.get("vars")
    if vars_group is not None and len(vars_group):
        indices = sorted(vars_group, key=lambda k: int(k) if k.isdigit() else 0)
        guess = (
            class_name or _guess_class(own or "") or ("LSTMCell" if (own or "").endswith("_cell") else None)
        )
        names = variable_names(guess, len(indices), config)
        for index, name in zip(indices, names, strict=True):
            yield _dataset("/".join([*here, name]), vars_group[index])
    for key, child in _children(group):
        if key == "vars":
            continue
        if key == "layers":  # a nested model: its layers' paths start afresh
            for _, layer in _children(child):
                yield from _layer_variables(layer, [], None, None, depth + 1)
        else:
            inner_class = "LSTMCell" if key == "cell" else None
            yield from _layer_variables(child, here, inner_class, None, depth + 1)


def _legacy(h5: Any) -> FileContents:
    raw = h5.attrs.get("model_config")
    document = _json(raw if isinstance(raw, bytes) else str(raw).encode(), "model_config") if raw else None
    weights = h5.get("model_weights", h5)
    contents = _legacy_weights(weights, h5, _configs(document) if document else None, "keras-h5")
    if document is not None:
        contents.metadata = _model_metadata(document)
    optimizer = h5.get("optimizer_weights")
    if optimizer is not None:
        state: list[Any] = []
        optimizer.visititems(lambda name, obj: state.append(obj) if hasattr(obj, "shape") else None)
        tensors = [_dataset(str(i), d) for i, d in enumerate(state)]
        contents.others.append(TensorSummary("optimizer state", len(tensors), sum(t.bytes for t in tensors)))
    return contents


def _legacy_weights(
    weights: Any, root: Any, configs: Mapping[str, KerasLayer] | None, fmt: str
) -> FileContents:
    tensors: list[StoredTensor] = []
    layers: list[KerasLayer] = []
    for layer_name in _strings(weights.attrs.get("layer_names", list(weights))):
        group = weights.get(layer_name)
        if group is None:
            raise ValueError(f"layer {layer_name!r} is listed but has no weights group")
        for weight_name in _strings(group.attrs.get("weight_names", [])):
            dataset = group.get(weight_name)
            if dataset is None:
                raise ValueError(f"weight {weight_name!r} of layer {layer_name!r} is missing")
            tensors.append(_dataset(weight_name.removesuffix(":0"), dataset))
        layer = (configs or {}).get(layer_name) or KerasLayer(layer_name, _guess_class(layer_name), None)
        if layer.class_name in RECURRENT or layer.class_name == "Bidirectional":
            layers.append(layer)
    return FileContents(fmt, tensors, keras_layers=layers)


def _strings(values: Any) -> list[str]:
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
