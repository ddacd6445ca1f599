"""JSON output: the documented contract, ``LayerResult.to_json()`` serialised.

>>> from shapecalc.api import shapes
>>> import json
>>> json.loads(render_json(shapes("lstm", units=4, input_dim=3)))["params"]
128

The text is byte for byte what ``json.dumps(value, indent=2, ensure_ascii=False)``
writes, from a writer of its own: the ``json`` package is five modules (about
1.5 ms of a cold start, an eighth of shapecalc's own), and a result holds only
dicts with text keys, lists, tuples, text, numbers, booleans and ``None``.
Anything else is a ``TypeError``, as with ``json``.

>>> print(dumps({"shape": ["batch", 32], "notes": [], "ok": True, "name": 'say "hi"'}))
{
  "shape": [
    "batch",
    32
  ],
  "notes": [],
  "ok": true,
  "name": "say \\"hi\\""
}
"""

from __future__ import annotations

from shapecalc.result import LayerResult


def render_json(result: LayerResult) -> str:
    return dumps(result.to_json()) + "\n"


#: What JSON escapes in a string when non-ASCII text is kept as it is.
_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)}
_ESCAPES.update({ord(k): v for k, v in {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f"}.items()})
_ESCAPES.update({ord(k): v for k, v in {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.items()})


def dumps(value: object, indent: int = 2) -> str:
    """``value`` as JSON text, each item on its own line, nested ``indent`` spaces deeper."""
    parts: list[str] = []
    _write(value, parts, "\n", " " * indent)
    return "".join(parts)


def _write(value: object, parts: list[str], newline: str, step: str) -> None:
    if isinstance(value, str):
        parts.append('"' + value.translate(_ESCAPES) + '"')
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float_text(value))
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = newline + step
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be str here, not {type(key).__name__}")
            parts.append(separator + '"' + key.translate(_ESCAPES) + '": ')
            _write(item, parts, inner, step)
            separator = "," + inner
        parts.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            parts.append("[]")
            return
        inner = newline + step
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _write(item, parts, inner, step)
            separator = "," + inner
        parts.append(newline + "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
