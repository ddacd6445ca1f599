"""The example model files shipped inside the package (YAML, TOML, JSON and a Keras file), so an
installed shapecalc can show what a model file looks like: ``shapecalc examples`` lists them and
``shapecalc model --example NAME`` runs one.

>>> [example.name for example in examples()][:2]
['conv1d_text', 'seq2seq_states']
>>> example_path("stacked_lstm").name
'stacked_lstm.yaml'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shapecalc.errors import ShapecalcError, did_you_mean, shown

#: Where they live: package data, installed with the code.
FOLDER = Path(__file__).resolve().parent.parent / "examples"
_SUFFIXES = {".yaml": "yaml", ".toml": "toml", ".json": "json"}


@dataclass(frozen=True)
class Example:
    name: str
    path: Path
    format: str
    about: str


def _about(path: Path) -> str:
    """The file's own first comment line, or what a JSON file is."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        document = json.loads(text)
        if "class_name" in document:
            return f"A Keras {document['class_name']} model, as model.to_json() writes it."
        return f"A shapecalc model file in JSON ({document.get('name', path.stem)})."
    first = text.splitlines()[0] if text else ""
    return first.lstrip("# ").strip()


def examples() -> list[Example]:
    """Every shipped example, by name."""
    return [
        Example(path.stem, path, _SUFFIXES[path.suffix], _about(path))
        for path in sorted(FOLDER.iterdir())
        if path.suffix in _SUFFIXES
    ]


def example_path(name: str) -> Path:
    """The file of example ``name``; a :class:`ShapecalcError` lists them otherwise."""
    known = {example.name: example.path for example in examples()}
    if name not in known:
        raise ShapecalcError(
            f"no example {shown(name)}{did_you_mean(name, list(known))}; the examples are {', '.join(known)}",
            option="--example",
        )
    return known[name]
