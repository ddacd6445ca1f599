"""What a weights file holds, as the readers hand it on: tensors by name, shape and dtype.

Readers never read tensor data; a tensor is its name, shape, dtype and where its
storage is (to count a tied tensor once).

>>> tensor = StoredTensor("lstm.weight_ih_l0", (32, 4), "float32")
>>> tensor.elements, tensor.bytes
(128, 512)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: Bytes per element of every dtype a reader may report (the frameworks' own names).
ITEM_SIZES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "complex128": 16, "complex64": 8, "int64": 8, "int32": 4, "int16": 2, "int8": 1,
    "uint64": 8, "uint32": 4, "uint16": 2, "uint8": 1, "bool": 1, "string": 0,
}  # fmt: skip
FLOATING = {"float64", "float32", "float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"}
#: Largest size of one dimension (int64, as the frameworks).
MAX_SIZE = 2**63 - 1


@dataclass(frozen=True)
class StoredTensor:
    """One tensor of a file. ``storage`` identifies its data: two tensors with the same
    ``storage`` (and shape) are one tied tensor."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    storage: tuple[Any, ...] | None = None

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def bytes(self) -> int:
        return self.elements * ITEM_SIZES.get(self.dtype, 0)

    @property
    def floating(self) -> bool:
        return self.dtype in FLOATING


@dataclass(frozen=True)
class TensorSummary:
    """Tensors a file holds that are not the model's (an optimizer's state): counted, not listed."""

    what: str
    count: int
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "tensors": self.count, "bytes": self.bytes}


@dataclass(frozen=True)
class KerasLayer:
    """A layer as a Keras file describes it: its weights' path prefix, class and config
    (``None`` when the file has only weights)."""

    path: str
    class_name: str | None
    config: dict[str, Any] | None
    #: The wrapped layer of a ``Bidirectional`` (its class and config).
    inner: KerasLayer | None = None
    #: The input shape Keras built the layer for, when the config records it.
    input_shape: tuple[int | None, ...] | None = None


@dataclass(frozen=True)
class OnnxNode:
    """A recurrent node of an ONNX graph: its operator, attributes and input names (W, R, B...)."""

    name: str
    op: str
    attributes: dict[str, Any]
    inputs: tuple[str, ...]


@dataclass
class FileContents:
    """Everything a reader found: the format, the model's tensors, and what else is there."""

    format: str
    tensors: list[StoredTensor]
    metadata: dict[str, Any] = field(default_factory=dict)
    others: list[TensorSummary] = field(default_factory=list)
    keras_layers: list[KerasLayer] = field(default_factory=list)
    onnx_nodes: list[OnnxNode] = field(default_factory=list)


def checked_shape(raw: Any, what: str) -> tuple[int, ...]:
    """A shape from a file: a list of non-negative ints below int64's limit, or ``ValueError``.

    >>> checked_shape([3, 4], "x")
    (3, 4)
    """
    if not isinstance(raw, (list, tuple)) or len(raw) > 64:
        raise ValueError(f"{what}: the shape is not a list of at most 64 sizes")
    shape = []
    for size in raw:
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
            raise ValueError(f"{what}: the shape holds {size!r}, not a size")
        shape.append(size)
    if math.prod(shape) > MAX_SIZE:
        raise ValueError(f"{what}: {math.prod(shape)} elements do not fit in int64")
    return tuple(shape)


def brief(error: BaseException, limit: int = 100) -> str:
    """An exception's text on one short line (a library's message may quote kilobytes of input).

    >>> brief(ValueError("bad header " + "x" * 200), 20)
    'bad header xxxxxx...'
    """
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
