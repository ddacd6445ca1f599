"""Reading model files: the format is chosen by content first, then by extension.

A zip archive is a ``.keras`` file (only its ``config.json`` is read, never the
weights); parsed text whose top level has ``class_name`` and ``config`` is a
Keras config; anything else is a shapecalc model file. YAML is read with
``safe_load``: tags that would build Python objects are refused.

>>> graph = parse_model(b'{"input": [10, 4], "layers": [{"type": "dense", "units": 2}]}', "m.json")
>>> graph.format, [node.name for node in graph.layers]
('shapecalc', ['input', 'dense'])
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import ModelGraph
from shapecalc.model.keras_format import is_keras_document, load_keras
from shapecalc.model.own_format import load_own

#: Largest model file (and largest ``config.json`` inside a ``.keras`` archive) read.
MAX_BYTES = 64 * 2**20
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
        return _parse_json(_keras_archive(data, source), f"{source}: config.json")
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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ShapecalcError(f"{source}: not UTF-8 text (byte {error.start})") from None
    if kind == "yaml":
        return _parse_yaml(text, source)
    if kind == "toml":
        return _parse_toml(text, source)
    return _parse_json(text, source)


def _keras_archive(data: bytes, source: str) -> str:
    import io
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise ShapecalcError(
                    f"{source}: a zip archive without config.json is not a .keras file"
                ) from None
            if info.file_size > MAX_BYTES:
                raise ShapecalcError(f"{source}: config.json is larger than {MAX_BYTES // 2**20} MB")
            with archive.open(info) as handle:
                raw = handle.read(MAX_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        raise ShapecalcError(f"{source}: not a readable .keras archive ({error})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ShapecalcError(f"{source}: config.json is not UTF-8 text") from None


def _parse_json(text: str, source: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ShapecalcError(
            f"{source}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise ShapecalcError(f"{source}: JSON nested too deeply") from None


def _parse_toml(text: str, source: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ShapecalcError(f"{source}: invalid TOML: {error}") from None
    except RecursionError:
        raise ShapecalcError(f"{source}: TOML nested too deeply") from None


def _parse_yaml(text: str, source: str) -> Any:
    import yaml

    # libyaml's C composer recurses in C: some 30,000 levels of nesting ("[[[[...") crash
    # the interpreter. Python's loader raises RecursionError instead, so deep files go there.
    shallow = _nesting_bound(text) <= C_LOADER_MAX_DEPTH
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if shallow else yaml.SafeLoader
    try:
        return yaml.load(text, Loader=loader)
    except yaml.constructor.ConstructorError as error:
        raise ShapecalcError(f"{source}: {_yaml_place(error)}{_tag_problem(error)}") from None
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ShapecalcError(f"{source}: invalid YAML {_yaml_place(error)}{problem}") from None
    except RecursionError:
        raise ShapecalcError(f"{source}: YAML nested too deeply") from None


#: Deepest nesting the fast C YAML loader is trusted with (far above any model file's).
C_LOADER_MAX_DEPTH = 1000
_COMPACT_BLOCKS = re.compile(r"^[ \t]*(?:[-?][ \t]+)+", re.MULTILINE)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def _nesting_bound(text: str) -> int:
    """An upper bound on how deep the YAML ``text`` nests: flow brackets, indentation, and
    compact block entries (``- - - x``) on one line, each counted at its worst.

    >>> _nesting_bound("layers: [{type: lstm, kernel: [3, 3]}]")
    3
    """
    openers = text.count("[") + text.count("{")
    flow = openers
    if openers > C_LOADER_MAX_DEPTH:
        from itertools import accumulate

        brackets = text.encode().translate(None, _NOT_BRACKETS)
        flow = max(accumulate(1 if c in b"[{" else -1 for c in brackets))
    indent = max((len(line) - len(line.lstrip(" \t")) for line in text.splitlines()), default=0)
    compact = max((match.group().count(" ") for match in _COMPACT_BLOCKS.finditer(text)), default=0)
    return flow + indent + compact


def _yaml_place(error: Any) -> str:
    mark = getattr(error, "problem_mark", None)
    return f"at line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""


def _tag_problem(error: Any) -> str:
    problem = str(getattr(error, "problem", "") or error)
    if "tag" in problem:
        tag = problem.split("tag", 1)[1].strip().strip("'\"").replace("tag:yaml.org,2002:", "!!")
        return f"the YAML tag {tag!r} is refused: model files hold plain data only"
    return problem
