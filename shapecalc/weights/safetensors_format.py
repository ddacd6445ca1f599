"""safetensors files: an 8-byte little-endian header length, a JSON header, then the data.

Only the header is read. A header that claims more bytes than the file holds, or a tensor
whose byte range does not fit its shape and dtype, is refused.

>>> import io, json, struct
>>> header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
>>> blob = struct.pack("<Q", len(header)) + header + bytes(24)
>>> [(t.name, t.shape, t.dtype) for t in read_safetensors(io.BytesIO(blob), len(blob)).tensors]
[('w', (2, 3), 'float32')]
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

from shapecalc.weights.tensors import ITEM_SIZES, FileContents, StoredTensor, brief, checked_shape

#: safetensors' own limit on the header (the reference implementation refuses more).
MAX_HEADER = 100 * 2**20
DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "C64": "complex64",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}  # fmt: skip


def looks_like_safetensors(head: bytes, size: int) -> bool:
    """Whether the first bytes start a safetensors header (a length, then ``{``); a length the
    file cannot hold still counts, so that the reader can say so."""
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return length >= 2 and head[8:9] == b"{"


def read_safetensors(handle: IO[bytes], size: int) -> FileContents:
    """The tensors in a safetensors file of ``size`` bytes (``ValueError`` when it is damaged)."""
    (length,) = struct.unpack("<Q", handle.read(8).ljust(8, b"\0"))
    if length > MAX_HEADER:
        raise ValueError(f"the header claims {length:,} bytes, more than safetensors allows (100 MB)")
    if length > size - 8:
        raise ValueError(f"the header claims {length:,} bytes but the file has only {size - 8:,} after it")
    raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"the header is not JSON ({brief(error)})") from None
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise ValueError("__metadata__ is not a JSON object")
    data_size = size - 8 - length
    tensors = [_tensor(name, entry, data_size) for name, entry in header.items()]
    return FileContents("safetensors", tensors, metadata={str(k): str(v) for k, v in metadata.items()})


def _tensor(name: str, entry: Any, data_size: int) -> StoredTensor:
    if not isinstance(entry, dict):
        raise ValueError(f"tensor {name!r}: its header entry is not an object")
    raw = entry.get("dtype")
    dtype = DTYPES.get(raw) if isinstance(raw, str) else None
    if dtype is None:
        raise ValueError(f"tensor {name!r}: unknown dtype {entry.get('dtype')!r}")
    shape = checked_shape(entry.get("shape"), f"tensor {name!r}")
    offsets = entry.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1] <= data_size
    ):
        raise ValueError(f"tensor {name!r}: data_offsets {offsets!r} lie outside the file's data")
    tensor = StoredTensor(name, shape, dtype, storage=(offsets[0], offsets[1]))
    if offsets[1] - offsets[0] != tensor.elements * ITEM_SIZES[dtype]:
        raise ValueError(
            f"tensor {name!r}: {offsets[1] - offsets[0]:,} bytes of data do not hold {dtype} {list(shape)}"
        )
    return tensor
