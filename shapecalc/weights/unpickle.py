"""A restricted unpickler for ``torch.save`` pickles: it never imports torch and runs nothing.

Only an allow-list of globals resolves, each to an inert stand-in: ``OrderedDict``, the
storage classes, torch's ``_rebuild_*`` functions (which here only record their arguments),
``torch.Size`` and a few builtins. Any other global — ``os.system``, ``builtins.eval``, a
pickled ``nn.Module``'s class — raises :class:`RefusedGlobal` naming it, before anything
is called.

>>> import pickle
>>> load_pickle(pickle.dumps({"epoch": 3}))
{'epoch': 3}
>>> try:
...     load_pickle(b"cos\\nsystem\\n(S'touch /tmp/x'\\ntR.")
... except RefusedGlobal as refused:
...     print("refused", refused)
refused os.system
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from shapecalc.weights.tensors import checked_shape

#: Storage classes (``torch.FloatStorage``; ``torch.cuda.*`` in old GPU checkpoints) -> dtype.
STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
}  # fmt: skip


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a global outside the allow-list; its text is ``module.name``."""

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module = module
        self.name = name


@dataclass(frozen=True)
class StorageType:
    """What ``torch.FloatStorage`` unpickles to here: just its dtype."""

    dtype: str


@dataclass(frozen=True)
class StorageRef:
    """A storage the pickle points at (``data/0`` in a zip file); its bytes are never read."""

    dtype: str
    key: str
    elements: int


@dataclass(frozen=True)
class TensorRef:
    """What ``torch._utils._rebuild_tensor_v2`` would have built: shape, offset and strides."""

    storage: StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


class Opaque:
    """An inert stand-in for harmless non-tensor objects of checkpoints (NumPy scalars,
    ``argparse.Namespace``): it takes any arguments and state and keeps none of them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass

    def __repr__(self) -> str:
        return "<opaque>"


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> TensorRef:
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("a tensor without a storage")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise pickle.UnpicklingError(f"a tensor with storage offset {offset!r}")
    return TensorRef(storage, offset, checked_shape(size, "tensor"), checked_shape(stride, "tensor strides"))


def _rebuild_tensor_v3(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> TensorRef:
    return _rebuild_tensor(storage, offset, size, stride)


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    return data


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    if func not in _FUNCTIONS or not isinstance(args, tuple):  # only our own stand-ins are ever called
        raise pickle.UnpicklingError("_rebuild_from_type_v2 of something other than a tensor")
    return func(*args)


def _encode(text: Any, encoding: Any = "latin1") -> bytes:
    # Protocol 2 pickles spell bytes as _codecs.encode(str, 'latin1').
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode of something other than latin-1 text")
    return text.encode("latin1")


def _size(*args: Any) -> tuple[Any, ...]:
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else tuple(args)


_FUNCTIONS = {_rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter, _rebuild_from_type_v2}
ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "complex"): complex,
    ("builtins", "slice"): slice,
    ("_codecs", "encode"): _encode,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Size"): _size,
    ("torch", "Tensor"): Opaque,
    ("torch.nn.parameter", "Parameter"): Opaque,
    ("torch", "device"): Opaque,
    ("argparse", "Namespace"): Opaque,
    ("numpy", "dtype"): Opaque,
    ("numpy.core.multiarray", "scalar"): Opaque,
    ("numpy._core.multiarray", "scalar"): Opaque,
    ("numpy.core.multiarray", "_reconstruct"): Opaque,
    ("numpy._core.multiarray", "_reconstruct"): Opaque,
    ("numpy", "ndarray"): Opaque,
    **{(module, name): StorageType(dtype) for name, dtype in STORAGE_DTYPES.items()
       for module in ("torch", "torch.cuda")},
}  # fmt: skip


def _refuse_buffers(self: Any) -> None:
    # torch.save writes protocol 2; protocol 5's out-of-band buffers would allocate what the
    # file claims before reading it.
    raise pickle.UnpicklingError("a protocol-5 buffer, which torch.save never writes")


class RestrictedUnpickler(pickle._Unpickler):
    """Python's own unpickler (the pure-Python one, whose every opcode is checked code) with
    globals only from :data:`ALLOWED`; storages are recorded by their key (``persistent_load``),
    never read; protocol-5 buffers are refused."""

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)
    for _opcode in (pickle.BYTEARRAY8, pickle.NEXT_BUFFER, pickle.READONLY_BUFFER):
        dispatch[_opcode[0]] = _refuse_buffers

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        # zip format: ('storage', type, key, location, numel); the legacy format adds view metadata.
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"an unknown persistent id {str(pid)[:40]!r}")
        storage_type, key, elements = pid[1], pid[2], pid[4]
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError("a storage of an unknown type")
        if not isinstance(elements, int) or isinstance(elements, bool) or elements < 0:
            raise pickle.UnpicklingError(f"a storage of {elements!r} elements")
        return StorageRef(storage_type.dtype, str(key), elements)


def load_pickle(data: bytes | IO[bytes]) -> Any:
    """Unpickle ``data`` (bytes or a stream positioned at a pickle) with the allow-list."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    return RestrictedUnpickler(stream).load()
