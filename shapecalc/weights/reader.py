"""``shapecalc weights FILE``'s engine: the format found by content, the tensors listed, the
recurrent layers rebuilt, the problems gathered.

Formats by their first bytes: a zip archive is a ``.keras`` file (with ``config.json``) or a
``torch.save`` file (with ``data.pkl``); ``\\x89HDF`` is HDF5 (Keras); an 8-byte length and
``{`` a safetensors header; a protocol-2 pickle the legacy ``torch.save`` format; a protobuf
starting with ``ir_version`` ONNX. Tensor data is never read.

>>> import json, struct, tempfile, os
>>> header = json.dumps({"fc.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})
>>> with tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False) as handle:
...     _ = handle.write(struct.pack("<Q", len(header)) + header.encode() + bytes(24))
>>> result = read_weights(handle.name)
>>> result.format, result.params, [row.group for row in result.tensors]
('safetensors', 6, ['fc'])
>>> os.unlink(handle.name)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from shapecalc.errors import ShapecalcError
from shapecalc.weights.result import GateSlice, RebuiltLayer, TensorRow, WeightsResult
from shapecalc.weights.tensors import FileContents, StoredTensor, brief

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
KNOWN = "safetensors, torch.save (.pt, .pth, .bin, .ckpt), .keras, .weights.h5, Keras .h5 or .onnx"


def read_weights(path: str | Path, layer: str | None = None) -> WeightsResult:
    """Everything file ``path`` holds (``OSError`` when it cannot be read, ``ShapecalcError``
    naming the file when its content is wrong); ``layer`` keeps only that layer."""
    path = Path(path)
    source = path.name
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            contents = read_contents(handle, size, source)
        except ValueError as error:
            raise ShapecalcError(str(error), where=source) from None
    layers, problems, gates = _rebuild(contents)
    rows = tuple(TensorRow(t, _group(t, contents), tuple(gates.get(t.name, ()))) for t in contents.tensors)
    if layer is not None:
        layers, rows, problems = _only(layer, layers, rows, problems, source)
    return WeightsResult(
        source,
        contents.format,
        rows,
        _params(row.tensor for row in rows),
        tuple(layers),
        tuple(problems),
        tuple(contents.others),
        contents.metadata,
    )


def read_contents(handle: IO[bytes], size: int, source: str) -> FileContents:
    """The file's tensors, by format (``ValueError`` with the reason when it is not readable)."""
    from shapecalc.weights.safetensors_format import looks_like_safetensors, read_safetensors
    from shapecalc.weights.torch_format import looks_like_legacy_torch, read_torch_legacy, read_torch_zip

    head = handle.read(64)
    handle.seek(0)
    if not head:
        raise ValueError("the file is empty")
    if head.startswith(ZIP_MAGICS):
        if _zip_has(handle, "config.json"):
            from shapecalc.weights.keras_format import read_keras_archive  # the Keras path only

            return read_keras_archive(handle)
        return read_torch_zip(handle)
    if head.startswith(HDF5_MAGIC):
        from shapecalc.weights.keras_format import read_keras_h5

        return read_keras_h5(handle)
    if looks_like_safetensors(head, size):
        return read_safetensors(handle, size)
    if looks_like_legacy_torch(head) or head.startswith(b"\x80"):
        return read_torch_legacy(handle)
    if head[:1] == b"\x08" or source.lower().endswith(".onnx"):
        from shapecalc.weights.onnx_format import read_onnx  # the ONNX path only

        return read_onnx(handle)
    if head.startswith(b"ustar", 257) or head[257:262] == b"ustar":
        raise ValueError("a tar archive (torch.save before PyTorch 0.4) is not read")
    raise ValueError(f"not a weights file shapecalc reads ({KNOWN})")


def _zip_has(handle: IO[bytes], name: str) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(handle) as archive:
            return name in archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"not a readable zip archive ({brief(error)})") from None
    finally:
        handle.seek(0)


def _rebuild(contents: FileContents) -> tuple[list[RebuiltLayer], list[str], dict[str, list[GateSlice]]]:
    if contents.format in ("keras", "keras-weights", "keras-h5"):
        from shapecalc.weights.keras_layers import rebuild_keras

        return rebuild_keras(contents.keras_layers, contents.tensors)
    if contents.format == "onnx":
        from shapecalc.weights.onnx_layers import rebuild_onnx

        return rebuild_onnx(contents.onnx_nodes, contents.tensors)
    from shapecalc.weights.torch_layers import rebuild_torch

    return rebuild_torch(contents.tensors)


def _group(tensor: StoredTensor, contents: FileContents) -> str:
    """The layer a tensor belongs to: its prefix (``lstm`` of ``lstm.weight_ih_l0``), the first
    part of a Keras path, or the ONNX node that reads it."""
    if contents.format == "onnx":
        for node in contents.onnx_nodes:
            if tensor.name in node.inputs:
                return node.name
    if contents.format.startswith("keras"):
        return tensor.name.split("/", 1)[0] if "/" in tensor.name else ""
    return tensor.name.rsplit(".", 1)[0] if "." in tensor.name else ""


def _params(tensors: Iterable[StoredTensor]) -> int:
    # A tied tensor (one storage, two names) is counted once.
    seen: set[object] = set()
    total = 0
    for tensor in tensors:
        key = tensor.storage if tensor.storage is not None else tensor.name
        if tensor.floating and key not in seen:
            seen.add(key)
            total += tensor.elements
    return total


def _only(
    name: str, layers: list[RebuiltLayer], rows: tuple[TensorRow, ...], problems: list[str], source: str
) -> tuple[list[RebuiltLayer], tuple[TensorRow, ...], list[str]]:
    kept = [layer for layer in layers if layer.name == name]
    groups = {row.group for row in rows}
    if not kept and name not in groups:
        from shapecalc.errors import did_you_mean, shown

        known = sorted({layer.name for layer in layers} | groups)
        listed = ", ".join(map(repr, known[:20]))
        raise ShapecalcError(
            f"no layer {shown(name)}{did_you_mean(name, known)}; the file has {listed}",
            option="layer",
            where=source,
        )
    rows = tuple(row for row in rows if row.group == name or any(row.tensor.name in k.tensors for k in kept))
    return kept, rows, [p for p in problems if p.startswith(f"{name}:")]
