"""JSON model files, bounded before they are parsed: a pass over the bytes counts the values
and the nesting (strings set aside), so a 60 MB file of empty objects is refused in a moment
instead of being built in 1.5 GB first.

>>> parse_json(b'{"input": [4], "layers": []}', "m.json")
{'input': [4], 'layers': []}
>>> parse_json(b'{"a": 1, "a": 2}', "m.json")
Traceback (most recent call last):
...
shapecalc.errors.ShapecalcError: m.json: the key 'a' is given twice
"""

from __future__ import annotations

import codecs
import re
from itertools import accumulate
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.model.limits import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_VALUES,
    given_twice,
    lone_surrogate,
    too_deep,
    too_many_digits,
    too_many_values,
)

_STRING = re.compile(rb'"[^"]*"')
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
#: A ``\uD800``-``\uDFFF`` escape: the file may hold a lone surrogate, which no output can encode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(data: bytes, source: str) -> Any:
    """The data in a JSON file's bytes; :class:`ShapecalcError` says what is wrong with it."""
    import json

    check_structure(data, source)
    try:
        text = (
            _ascii_text(data)
            if len(data) > WIDE_TEXT_BYTES and not data.isascii()
            else data.decode("utf-8-sig")
        )
    except UnicodeDecodeError as error:
        raise ShapecalcError(f"{source}: not UTF-8 text (byte {error.start})") from None

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise ShapecalcError(given_twice(source, key))
                seen.add(key)
        return out

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            raise ShapecalcError(too_many_digits(source))
        return int(digits)

    try:
        document = json.loads(text, object_pairs_hook=unique, parse_int=integer)
    except json.JSONDecodeError as error:
        raise ShapecalcError(
            f"{source}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise ShapecalcError(too_deep(source, "JSON")) from None
    if _SURROGATE_ESCAPE.search(data):
        refuse_lone_surrogates(document, source)
    return document


#: Above this size a non-ASCII file may be decoded to ASCII text with ``\\u`` escapes (below).
WIDE_TEXT_BYTES = 2**24
_FOUR_BYTE_LEAD = re.compile(rb"[\xf0-\xf4]")
_NOT_CONTINUATION = bytes(c for c in range(256) if not 0x80 <= c < 0xC0)


def _decode(data: bytes) -> str:
    """The text of UTF-8 ``data``. Python stores a text in 4 bytes per character when one of
    them is outside the BMP (an emoji): a big, mostly ASCII file holding one emoji would take
    4 times its size. Such a file becomes ASCII text with JSON escapes instead."""
    if len(data) <= WIDE_TEXT_BYTES or data.isascii() or not _FOUR_BYTE_LEAD.search(data):
        return data.decode("utf-8-sig")
    characters = len(data) - len(data.translate(None, _NOT_CONTINUATION))
    if 4 * characters <= 2 * len(data):  # mostly wide characters: their escapes would be longer
        return data.decode("utf-8-sig")
    return _ascii_text(data)


def _ascii_text(data: bytes) -> str:
    """``data`` (UTF-8 JSON) as ASCII text, each other character written as a JSON ``\\u``
    escape, decoded a piece at a time so that the wide text never exists whole.

    >>> _ascii_text("{\\"x\\": \\"é😀\\"}".encode())
    '{"x": "\\\\u00e9\\\\ud83d\\\\ude00"}'
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    piece = 2**20
    parts = []
    for start in range(0, len(data) + 1, piece):
        try:
            text = decoder.decode(data[start : start + piece], final=start + piece >= len(data))
        except UnicodeDecodeError as error:
            raise UnicodeDecodeError(
                "utf-8", data, start + error.start, start + error.end, error.reason
            ) from None
        parts.append(text.encode("ascii", "shapecalc-json").decode("ascii"))
    return "".join(parts)


def _json_escapes(error: UnicodeError) -> tuple[str, int]:
    """An encoding error handler: the characters ASCII cannot hold as ``\\uXXXX`` (UTF-16 units)."""
    assert isinstance(error, UnicodeEncodeError)
    units = error.object[error.start : error.end].encode("utf-16-be", "surrogatepass").hex("u", 2)
    return f"\\u{units.replace('u', chr(92) + 'u')}", error.end


codecs.register_error("shapecalc-json", _json_escapes)


def check_structure(data: bytes, source: str) -> None:
    """Refuse JSON bytes with more than :data:`MAX_VALUES` values or :data:`MAX_DEPTH` levels.

    Every value but the first, and every key, follows one of ``[ { , :``, so counting those
    outside strings bounds the values from above. Counted with the strings in, most files are
    clearly under the limits; only the others are counted again without them.

    >>> check_structure(b'[' * 201 + b']' * 201, "m.json")
    Traceback (most recent call last):
    ...
    shapecalc.errors.ShapecalcError: m.json: JSON nested too deeply (more than 200 levels)
    """
    if _separators(data) <= MAX_VALUES and _openers(data) <= MAX_DEPTH:
        return
    outside = _outside_strings(data)
    if _separators(outside) > MAX_VALUES:
        raise ShapecalcError(too_many_values(source))
    if _openers(outside) > MAX_DEPTH:
        brackets = outside.translate(None, _NOT_BRACKETS)
        if max(accumulate(1 if c in b"[{" else -1 for c in brackets)) > MAX_DEPTH:
            raise ShapecalcError(too_deep(source, "JSON"))


def _separators(data: bytes) -> int:
    return data.count(b"[") + data.count(b"{") + data.count(b",") + data.count(b":")


def _openers(data: bytes) -> int:
    return data.count(b"[") + data.count(b"{")


def _outside_strings(data: bytes) -> bytes:
    """``data`` without its strings. Inside a JSON string a backslash escapes the next byte:
    dropping the escaped backslashes, then the escaped quotes, leaves only real quotes."""
    return _STRING.sub(b"", data.replace(b"\\\\", b"").replace(b'\\"', b""))


def refuse_lone_surrogates(document: Any, source: str) -> None:
    """Refuse a string (a key or a value) holding half of a UTF-16 surrogate pair (``"\\ud800"``):
    it is no Unicode text, and printing it would fail."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise ShapecalcError(f"{source}: {lone_surrogate(value)}")
