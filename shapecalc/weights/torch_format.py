"""``torch.save`` files: the zip format (``archive/data.pkl`` + ``archive/data/N``) and the
legacy format (pickles one after another, then the raw storages), read without torch.

Only the pickle is read, through :mod:`shapecalc.weights.unpickle`; storages are never
touched. The model's tensors are the ``state_dict`` the file holds: the object itself, or
the one under a common key (``state_dict``, ``model``, ``model_state_dict``, ...); other
tensors (an optimizer's state) are summarised apart.

>>> from shapecalc.weights.unpickle import StorageRef, TensorRef
>>> weight = TensorRef(StorageRef("float32", "0", 6), 0, (2, 3), (3, 1))
>>> model, others = split_checkpoint({"state_dict": {"fc.weight": weight}, "epoch": 3})
>>> [(t.name, t.shape) for t in model], others
([('fc.weight', (2, 3))], [])
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from shapecalc.weights.tensors import FileContents, StoredTensor, TensorSummary, brief
from shapecalc.weights.unpickle import (
    RefusedGlobal,
    RestrictedUnpickler,
    TensorRef,
    load_pickle,
)

#: Largest pickle read (a state_dict's pickle is kilobytes; the tensors' data is never read).
MAX_PICKLE = 256 * 2**20
#: The first pickle of a legacy file is this number.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
#: Keys under which checkpoints keep the model's state_dict, most specific first.
STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model_state", "model", "module", "net", "network")
#: Most objects walked when looking for tensors (a pickle is bounded anyway; this bounds the walk).
MAX_OBJECTS = 1_000_000


class PickleRefusedError(ValueError):
    """The pickle is not a plain ``state_dict``: it asks for ``global_name``."""

    def __init__(self, message: str, global_name: str) -> None:
        super().__init__(message)
        self.global_name = global_name


def read_torch_zip(handle: IO[bytes]) -> FileContents:
    """The tensors of a zip-format ``torch.save`` file (``ValueError`` when damaged or refused)."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"not a readable zip archive ({brief(error)})") from None
    with archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("data.pkl") and name.count("/") <= 1]
        if not pickles:
            raise ValueError("a zip archive without data.pkl is not a torch.save file")
        prefix = pickles[0][: -len("data.pkl")]
        if f"{prefix}constants.pkl" in names or any(name.startswith(f"{prefix}code/") for name in names):
            raise ValueError(
                "a TorchScript archive (torch.jit.save): its code is not read; "
                "save the module's state_dict() with torch.save instead"
            )
        info = archive.getinfo(pickles[0])
        if info.file_size > MAX_PICKLE:
            raise ValueError(f"data.pkl is {info.file_size:,} bytes, more than {MAX_PICKLE // 2**20} MB")
        try:
            with archive.open(info) as stream:
                data = stream.read(MAX_PICKLE + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
            raise ValueError(f"data.pkl cannot be read ({brief(error)})") from None
        if len(data) > MAX_PICKLE:
            raise ValueError(f"data.pkl inflates past {MAX_PICKLE // 2**20} MB (a zip bomb?)")
    return _contents("pytorch", _unpickle(lambda: load_pickle(data)))


def read_torch_legacy(handle: IO[bytes]) -> FileContents:
    """The tensors of a legacy (pre-1.6, ``_use_new_zipfile_serialization=False``) file."""
    stream = _Bounded(handle, MAX_PICKLE)

    def load() -> Any:
        magic = RestrictedUnpickler(stream).load()
        if magic != LEGACY_MAGIC:
            raise ValueError("not a torch.save file (its first pickle is not torch's magic number)")
        RestrictedUnpickler(stream).load()  # the protocol version
        RestrictedUnpickler(stream).load()  # sys_info: endianness, type sizes
        return RestrictedUnpickler(stream).load()

    return _contents("pytorch-legacy", _unpickle(load))


def looks_like_legacy_torch(head: bytes) -> bool:
    """Whether ``head`` starts with the legacy format's first pickle (protocol 2, the magic long)."""
    return head.startswith(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")


def _unpickle(load: Any) -> Any:
    try:
        return load()
    except RefusedGlobal as refused:
        name = f"{refused.module}.{refused.name}"
        if refused.module.startswith("torch.nn.modules") or refused.module == "__main__":
            raise PickleRefusedError(
                f"a pickled nn.Module (it asks for {name}); shapecalc runs no pickled code: "
                "save model.state_dict() instead",
                name,
            ) from None
        raise PickleRefusedError(
            f"refused: the pickle asks for {name}, which is not a tensor, storage or plain container "
            "(nothing was run)",
            name,
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        struct.error,
    ) as error:
        raise ValueError(f"the pickle is damaged ({type(error).__name__}: {brief(error)})") from None
    except (ValueError, OverflowError, MemoryError, UnicodeDecodeError) as error:
        raise ValueError(f"the pickle is damaged ({brief(error)})") from None


def _contents(fmt: str, obj: Any) -> FileContents:
    model, others = split_checkpoint(obj)
    return FileContents(fmt, model, others=others)


def split_checkpoint(obj: Any) -> tuple[list[StoredTensor], list[TensorSummary]]:
    """The model's tensors under the names the file uses, and summaries of every other tensor."""
    found = _state_dict(obj)
    if found is None:  # no flat state_dict: every tensor, named by its path in the object
        return [_stored(name, ref) for name, ref in _walk(obj, "")], []
    key, state = found
    model = [_stored(str(name), value) for name, value in state.items() if isinstance(value, TensorRef)]
    others: list[TensorSummary] = []
    if key is not None and isinstance(obj, dict):
        for other_key, value in obj.items():
            if other_key == key:
                continue
            tensors = [_stored(name, ref) for name, ref in _walk(value, str(other_key))]
            if tensors:
                what = "optimizer state" if "optim" in str(other_key).lower() else "other tensors"
                summary = TensorSummary(f"{what} ({other_key})", len(tensors), sum(t.bytes for t in tensors))
                others.append(summary)
    return model, others


def _state_dict(obj: Any) -> tuple[str | None, dict[Any, Any]] | None:
    if not isinstance(obj, dict):
        return None
    for key in STATE_DICT_KEYS:
        inner = obj.get(key)
        if isinstance(inner, dict) and _is_state_dict(inner):
            return key, inner
    if _is_state_dict(obj):
        return None, obj
    return None


def _is_state_dict(obj: dict[Any, Any]) -> bool:
    # A flat mapping of names to tensors (BatchNorm's num_batches_tracked is a tensor too).
    return bool(obj) and all(isinstance(value, TensorRef) for value in obj.values())


def _walk(obj: Any, path: str) -> Iterator[tuple[str, TensorRef]]:
    budget = [MAX_OBJECTS]

    def walk(value: Any, where: str, depth: int) -> Iterator[tuple[str, TensorRef]]:
        budget[0] -= 1
        if budget[0] < 0 or depth > 100:
            raise ValueError("the pickle is nested too deeply or holds too many objects")
        if isinstance(value, TensorRef):
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{where}.{key}" if where else str(key), depth + 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}.{index}" if where else str(index), depth + 1)

    yield from walk(obj, path, 0)


def _stored(name: str, ref: TensorRef) -> StoredTensor:
    identity = (ref.storage.key, ref.offset, ref.shape, ref.stride)
    return StoredTensor(name, ref.shape, ref.storage.dtype, storage=identity)


class _Bounded:
    """A read-only view of a stream that refuses to read past ``limit`` bytes."""

    def __init__(self, handle: IO[bytes], limit: int) -> None:
        self._handle = handle
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._left:
            raise ValueError(f"the pickle runs past {MAX_PICKLE // 2**20} MB")
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        line = self._handle.readline(min(self._left, 2**20))
        self._left -= len(line)
        return line
