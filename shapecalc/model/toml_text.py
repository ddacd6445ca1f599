"""TOML model files, bounded before they are parsed (TOML's parser is pure Python: a pass
over the bytes keeps it from spending minutes on a file of a million tiny tables).

>>> parse_toml(b'input = [4]\\n[[layers]]\\ntype = "dense"\\nunits = 2\\n', "m.toml")
{'input': [4], 'layers': [{'type': 'dense', 'units': 2}]}
"""

from __future__ import annotations

from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.model.limits import MAX_DEPTH, MAX_VALUES, too_deep, too_many_digits, too_many_values


def parse_toml(data: bytes, source: str) -> Any:
    """The data in a TOML file's bytes; :class:`ShapecalcError` says what is wrong with it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

    # Every value follows one of "= , [ {", every key one of those, "." or a table header's
    # "["; counted with those in strings and comments too, this bounds them from above.
    separators = sum(data.count(byte) for byte in (b"=", b",", b"[", b"{", b"."))
    if separators > MAX_VALUES:
        raise ShapecalcError(too_many_values(source))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ShapecalcError(f"{source}: not UTF-8 text (byte {error.start})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ShapecalcError(f"{source}: invalid TOML: {error}") from None
    except RecursionError:
        raise ShapecalcError(too_deep(source, "TOML")) from None
    except ValueError:  # an integer past Python's int(str) digit limit
        raise ShapecalcError(too_many_digits(source)) from None
    if data.count(b"[") + data.count(b"{") + data.count(b".") > MAX_DEPTH and _depth(document) > MAX_DEPTH:
        raise ShapecalcError(too_deep(source, "TOML"))
    return document


def _depth(document: Any) -> int:
    """How many levels of tables and arrays ``document`` nests (dotted keys nest tables too)."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, (dict, list)))
    return deepest
