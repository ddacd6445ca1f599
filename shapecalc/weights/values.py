"""The values of chosen tensors of a weights file, as NumPy arrays (the extra ``shapecalc[port]``).

The shape readers (:func:`shapecalc.weights.reader.read_weights`) say where each tensor's data
lies (``StoredTensor.storage``); this reads exactly those bytes and nothing else: a safetensors
byte range, a ``torch.save`` storage (zip entry ``data/<key>``, or the legacy format's storages
after its pickles, which go through the same restricted unpickler), a Keras HDF5 dataset, an
ONNX initializer. Each read is bounded by the tensor's own size, checked against what the file
holds before anything is allocated. ``bfloat16`` is widened to ``float32`` (exactly).

>>> import json, struct, tempfile, os
>>> header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
>>> with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as handle:
...     _ = handle.write(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.5, -2))
>>> from shapecalc.weights.reader import read_weights
>>> rows = read_weights(handle.name).tensors
>>> read_values(handle.name, "safetensors", [row.tensor for row in rows])["w"].tolist()
[1.5, -2.0]
>>> os.unlink(handle.name)
"""

from __future__ import annotations

import math
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from shapecalc.errors import ShapecalcError
from shapecalc.weights.tensors import ITEM_SIZES, StoredTensor, brief

#: NumPy's names for the dtypes whose values are read (bfloat16 is read as uint16, then widened).
NUMPY_DTYPES = {
    "float64": "<f8", "float32": "<f4", "float16": "<f2", "bfloat16": "<u2",
    "int64": "<i8", "int32": "<i4", "int16": "<i2", "int8": "i1",
    "uint64": "<u8", "uint32": "<u4", "uint16": "<u2", "uint8": "u1", "bool": "?",
}  # fmt: skip


def numpy_module() -> Any:
    """NumPy, or one line saying how to install it (the readers sit below the port engine, whose
    own helper says the same)."""
    try:
        import numpy  # only on the porting path: an optional extra
    except ImportError:
        raise ShapecalcError("converting weights needs numpy: pip install 'shapecalc[port]'") from None
    return numpy


def read_values(path: str | Path, fmt: str, tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    """The values of ``tensors`` (as a reader of format ``fmt`` found them in ``path``), by name.

    ``ShapecalcError`` naming the file and the tensor when the data is not there."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            if fmt == "safetensors":
                return {t.name: _safetensors(handle, t) for t in tensors}
            if fmt == "pytorch":
                return _torch_zip(handle, tensors)
            if fmt == "pytorch-legacy":
                return _torch_legacy(handle, tensors)
            if fmt in ("keras", "keras-weights", "keras-h5"):
                return _keras(handle, fmt, tensors)
            if fmt == "onnx":
                return _onnx(handle, tensors)
    except ValueError as error:
        if isinstance(error, ShapecalcError):
            raise
        raise ShapecalcError(str(error), where=path.name) from None
    raise ShapecalcError(f"the values of a {fmt} file are not read", where=path.name)


def _array(raw: bytes, tensor: StoredTensor, byteorder: str = "<") -> Any:
    numpy = numpy_module()
    code = NUMPY_DTYPES.get(tensor.dtype)
    if code is None:
        raise ValueError(f"tensor {tensor.name!r}: {tensor.dtype} values are not converted")
    dtype = numpy.dtype(code if byteorder == "<" else code.replace("<", ">"))
    array = numpy.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))
    if tensor.dtype == "bfloat16":  # the high half of a float32: widened exactly
        array = (array.astype(numpy.uint32) << 16).view(numpy.float32)
    return array


def _exact(handle: IO[bytes], size: int, what: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise ValueError(f"{what}: the file ends {size - len(data):,} bytes before its data does")
    return data


def _safetensors(handle: IO[bytes], tensor: StoredTensor) -> Any:
    handle.seek(0)
    (length,) = struct.unpack("<Q", _exact(handle, 8, "the header"))
    start, end = tensor.storage or (0, 0)
    handle.seek(8 + length + int(start))
    raw = _exact(handle, int(end) - int(start), f"tensor {tensor.name!r}")
    return _array(raw, tensor).reshape(tensor.shape)


def _strided(storage: Any, tensor: StoredTensor) -> Any:
    """A torch tensor from its storage (elements), offset and strides, bounds checked."""
    numpy = numpy_module()
    _, offset, shape, stride = tensor.storage or (None, 0, (), ())
    last = offset + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
    if any(size == 0 for size in shape):
        return numpy.zeros(shape, dtype=storage.dtype)
    if offset < 0 or last >= len(storage) or any(step < 0 for step in stride):
        raise ValueError(f"tensor {tensor.name!r}: its offset and strides reach past its storage")
    items = storage.itemsize
    view = numpy.lib.stride_tricks.as_strided(
        storage[offset:], shape=shape, strides=[step * items for step in stride], writeable=False
    )
    return numpy.array(view)


def _torch_zip(handle: IO[bytes], tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
            pickle = next(n for n in names if n.endswith("data.pkl") and n.count("/") <= 1)
            prefix = pickle[: -len("data.pkl")]
            order = "<"
            if f"{prefix}byteorder" in names:
                order = ">" if archive.read(f"{prefix}byteorder")[:3] == b"big" else "<"
            needed: dict[str, int] = {}  # bytes of each storage the wanted tensors reach
            for tensor in tensors:
                key = str((tensor.storage or ("",))[0])
                needed[key] = max(needed.get(key, 0), _reach(tensor))
            storages = {
                key: _zip_storage(archive, f"{prefix}data/{key}", size, _sample(tensors, key), order)
                for key, size in needed.items()
            }
            return {t.name: _strided(storages[str((t.storage or ("",))[0])], t) for t in tensors}
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, StopIteration) as error:
        raise ValueError(f"the archive's data cannot be read ({brief(error)})") from None


def _reach(tensor: StoredTensor) -> int:
    """The bytes of its storage a torch tensor reaches (its offset, shape and strides)."""
    _, offset, shape, stride = tensor.storage or (None, 0, (), ())
    if any(size == 0 for size in shape):
        return 0
    last = offset + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
    return int(last + 1) * ITEM_SIZES.get(tensor.dtype, 0)


def _sample(tensors: Sequence[StoredTensor], key: str) -> StoredTensor:
    return next(t for t in tensors if str((t.storage or ("",))[0]) == key)


#: A compressed entry may inflate this many times its size, no more (a zip bomb stops here).
MAX_RATIO = 1000


def _zip_storage(archive: zipfile.ZipFile, entry: str, size: int, tensor: StoredTensor, order: str) -> Any:
    """The first ``size`` bytes of storage ``entry`` (all a tensor reaches), as ``tensor``'s dtype."""
    try:
        info = archive.getinfo(entry)
    except KeyError:
        raise ValueError(f"tensor {tensor.name!r}: its storage {entry!r} is missing") from None
    item = ITEM_SIZES.get(tensor.dtype, 0)
    if not item or size % item:
        raise ValueError(f"tensor {tensor.name!r}: storage {entry!r} does not hold {tensor.dtype} values")
    if size > info.file_size:
        raise ValueError(f"tensor {tensor.name!r}: its offset and strides reach past its storage")
    if info.compress_type != zipfile.ZIP_STORED and size > MAX_RATIO * max(info.compress_size, 1):
        raise ValueError(f"storage {entry!r} inflates more than {MAX_RATIO} times (a zip bomb?)")
    with archive.open(info) as stream:
        return _array(_exact(stream, size, entry), tensor, order)


def _torch_legacy(handle: IO[bytes], tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    """Legacy files: four pickles, the list of storage keys, then each storage (its element
    count as int64, then its bytes) in that order."""
    from shapecalc.weights.torch_format import MAX_PICKLE, _Bounded, _unpickle, _walk
    from shapecalc.weights.unpickle import RestrictedUnpickler

    stream = _Bounded(handle, MAX_PICKLE)

    def load() -> tuple[Any, Any]:
        for _ in range(3):
            RestrictedUnpickler(stream).load()
        return RestrictedUnpickler(stream).load(), RestrictedUnpickler(stream).load()

    obj, order = _unpickle(load)
    if not isinstance(order, list) or not all(isinstance(key, str) for key in order):
        raise ValueError("the list of storages after the pickle is damaged")
    # Every storage's dtype, to step over the storages no wanted tensor uses.
    dtypes = {ref.storage.key: ref.storage.dtype for _, ref in _walk(obj, "")}
    wanted = {str((t.storage or ("",))[0]) for t in tensors}
    position, end = handle.tell(), handle.seek(0, 2)  # the pickles end where the storages begin
    storages: dict[str, Any] = {}
    for key in order:
        if wanted <= storages.keys():
            break
        item = ITEM_SIZES.get(dtypes.get(key, ""), 0)
        handle.seek(position)
        (count,) = struct.unpack("<q", _exact(handle, 8, f"storage {key!r}"))
        if not item or count < 0 or count * item > end - position - 8:
            raise ValueError(f"storage {key!r} claims {count:,} elements, more than the file holds")
        if key in wanted:
            sample = StoredTensor(key, (count,), dtypes[key])
            storages[key] = _array(_exact(handle, count * item, f"storage {key!r}"), sample)
        position += 8 + count * item
    out = {}
    for tensor in tensors:
        key = str((tensor.storage or ("",))[0])
        if key not in storages:
            raise ValueError(f"tensor {tensor.name!r}: its storage {key!r} is not in the file")
        out[tensor.name] = _strided(storages[key], tensor)
    return out


def _keras(handle: IO[bytes], fmt: str, tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    from shapecalc.weights.keras_format import h5py_module

    h5py = h5py_module()
    try:
        if fmt == "keras":
            with (
                zipfile.ZipFile(handle) as archive,
                archive.open("model.weights.h5") as stream,
                h5py.File(stream, "r") as h5,
            ):
                return _datasets(h5, tensors)
        with h5py.File(handle, "r") as h5:
            return _datasets(h5, tensors)
    except (OSError, KeyError, RuntimeError, TypeError, zipfile.BadZipFile) as error:
        raise ValueError(f"the HDF5 data cannot be read ({brief(error)})") from None


def _datasets(h5: Any, tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    numpy = numpy_module()
    out = {}
    for tensor in tensors:
        dataset = h5.get(str((tensor.storage or ("",))[0]))
        if dataset is None or not hasattr(dataset, "shape") or tuple(dataset.shape) != tensor.shape:
            raise ValueError(f"tensor {tensor.name!r}: its dataset is not where the file said")
        if tensor.dtype not in NUMPY_DTYPES or tensor.dtype == "bfloat16":
            raise ValueError(f"tensor {tensor.name!r}: {tensor.dtype} values are not converted")
        stored = dataset.id.get_storage_size()
        if tensor.bytes > max(stored, 1) * (MAX_RATIO if dataset.compression else 1):
            # Keras stores every value; fill values or a compression bomb would only cost memory.
            raise ValueError(f"tensor {tensor.name!r}: {tensor.bytes:,} bytes from {stored:,} stored")
        array = numpy.empty(tensor.shape, dtype=dataset.dtype)
        if math.prod(tensor.shape):
            dataset.read_direct(array)
        out[tensor.name] = array
    return out


def _onnx(handle: IO[bytes], tensors: Sequence[StoredTensor]) -> dict[str, Any]:
    from shapecalc.weights.onnx_format import onnx_module

    onnx = onnx_module()
    try:
        model = onnx.load_model(handle, load_external_data=False)
    except Exception as error:  # protobuf raises DecodeError, RuntimeError, ValueError...
        raise ValueError(f"not a readable ONNX model ({type(error).__name__})") from None
    wanted = {t.name for t in tensors}
    out = {}
    for item in model.graph.initializer:
        if item.name not in wanted or item.name in out:
            continue
        if item.data_location == onnx.TensorProto.EXTERNAL:
            raise ValueError(f"initializer {item.name!r}: its data is external and is not read")
        try:
            out[item.name] = onnx.numpy_helper.to_array(item)
        except Exception as error:  # a damaged raw_data length, an unknown type...
            raise ValueError(f"initializer {item.name!r} cannot be read ({brief(error)})") from None
    for tensor in tensors:
        if tensor.name not in out or tuple(out[tensor.name].shape) != tensor.shape:
            raise ValueError(f"initializer {tensor.name!r}: its data does not hold {list(tensor.shape)}")
    return out
