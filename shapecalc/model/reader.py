"""Reading model files: the format is chosen by content first, then by extension.

A zip archive is a ``.keras`` file (only its ``config.json`` is read, never the
weights); parsed text whose top level has ``class_name`` and ``config`` is a
Keras config; anything else is a shapecalc model file. Each format has its own
bounded parser (:mod:`.json_text`, :mod:`.yaml_text`, :mod:`.toml_text`); the
limits are in :mod:`.limits`.

>>> graph = parse_model(b'{"input": [10, 4], "layers": [{"type": "dense", "units": 2}]}', "m.json")
>>> graph.format, [node.name for node in graph.layers]
('shapecalc', ['input', 'dense'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import ModelGraph
from shapecalc.model.json_text import parse_json
from shapecalc.model.keras_archive import config_json
from shapecalc.model.keras_format import is_keras_document, load_keras
from shapecalc.model.limits import MAX_BYTES
from shapecalc.model.own_format import load_own
from shapecalc.model.toml_text import parse_toml
from shapecalc.model.yaml_text import parse_yaml

__all__ = ["MAX_BYTES", "load_document", "parse_document", "parse_model", "read_model"]

TEXT_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def read_model(path: str | Path) -> ModelGraph:
    """Load the model in file ``path`` (``OSError`` if it cannot be read)."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    return parse_model(data, path.name)


def parse_model(data: bytes, source: str) -> ModelGraph:
    """Load a model from the bytes of a file named ``source``."""
    return load_document(parse_document(data, source), source)


def load_document(document: Any, source: str) -> ModelGraph:
    """A parsed document as a model: a Keras config, or a shapecalc model file."""
    if is_keras_document(document):
        return load_keras(document, source)
    return load_own(document, source)


def parse_document(data: bytes, source: str) -> Any:
    """The data structure in a model file's bytes."""
    if len(data) > MAX_BYTES:
        raise ShapecalcError(f"{source}: the file is larger than {MAX_BYTES // 2**20} MB")
    if data.startswith(ZIP_MAGIC):
        return parse_json(config_json(data, source), f"{source}: config.json")
    if data.startswith(HDF5_MAGIC):
        raise ShapecalcError(
            f"{source}: HDF5 (.h5) Keras files are not read; save the model as .keras or with model.to_json()"
        )
    suffix = Path(source).suffix.lower()
    if suffix == ".keras":
        raise ShapecalcError(f"{source}: not a .keras archive (a .keras file is a zip archive)")
    kind = TEXT_FORMATS.get(suffix)
    if kind is None:
        raise ShapecalcError(
            f"{source}: unknown model file type {suffix or '(no extension)'!r}; "
            "use .yaml, .yml, .toml or .json (shapecalc or Keras JSON), or .keras"
        )
    if kind == "yaml":
        _check_utf8(data, source)
        return parse_yaml(data, source)
    if kind == "toml":
        return parse_toml(data, source)
    return parse_json(data, source)


def _check_utf8(data: bytes, source: str) -> None:
    """Refuse bytes that are not UTF-8, a piece at a time (the text itself is not needed)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    piece = 2**20
    for start in range(0, len(data) + 1, piece):
        try:
            decoder.decode(data[start : start + piece], final=start + piece >= len(data))
        except UnicodeDecodeError as error:
            raise ShapecalcError(f"{source}: not UTF-8 text (byte {start + error.start})") from None
