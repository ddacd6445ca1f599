"""Batch mode: one JSON config per line in, one JSON result per line out.

Each input line is an object with ``"layer"`` and the options the layer
commands take, under the keys of the option table (:mod:`shapecalc.options`;
``dtype`` and ``explain`` included, and the ``config`` keys of an answer);
each output line is the object ``--format json`` prints, compact. A line that fails gives
``{"line": N, "error": "..."}`` in its place and the rest go on, so a
thousand configs cost one process start. Blank lines are skipped.

>>> answer_line(b'{"layer": "lstm", "units": 32, "input_dim": 20}')["params"]
6784
>>> answer_line(b'{"layer": "lstm", "units": -3, "input_dim": 20}')
Traceback (most recent call last):
...
shapecalc.errors.ShapecalcError: units: must be a positive integer, got -3
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from shapecalc.errors import ShapecalcError, shown

if TYPE_CHECKING:
    from shapecalc.api import Request

#: Longest input line; a config is a few hundred bytes, so more is a mistake or an attack.
MAX_LINE_BYTES = 65_536
#: Batch files repeat configs (a sweep over a few sizes): the answers to this many recent
#: requests are kept, each at most ``MEMO_CHARS`` long, so memory stays bounded (~16 MB).
MEMO_ENTRIES = 512
MEMO_CHARS = 32_768


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` per line; ``None`` for a line over :data:`MAX_LINE_BYTES`.

    Reads in bounded pieces, so one endless line never fills memory.
    """
    number = 0
    while line := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_LINE_BYTES + 1)
            yield number, None
        else:
            yield number, line


def parse_line(raw: bytes, first: bool = False) -> dict[str, Any]:
    """One line's JSON object; :class:`ShapecalcError` says what is wrong with it."""
    import json

    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as error:
        raise ShapecalcError(f"not UTF-8 text (bad byte at position {error.start + 1})") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except ShapecalcError:
        raise
    except RecursionError:
        raise ShapecalcError("not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as error:
        raise ShapecalcError(f"not valid JSON: {error.msg} at column {error.colno}") from None
    except ValueError:  # an integer longer than Python's 4300-digit conversion limit
        raise ShapecalcError("not valid JSON: a number is too long") from None
    if not isinstance(value, dict):
        raise ShapecalcError(f'expected a JSON object such as {{"layer": "lstm", ...}}, got {shown(value)}')
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (which one would count?)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ShapecalcError(f"{shown(key)} is given twice")
        out[key] = value
    return out


def request_line(raw: bytes, first: bool = False) -> Request:
    """What one line asks for: its config, dtype and explain flag, every key checked."""
    from shapecalc.api import request

    options = parse_line(raw, first)
    layer = options.pop("layer", None)
    if layer is None:
        raise ShapecalcError('is required (e.g. "layer": "lstm")', option="layer", code="required")
    return request(layer, options)


def answer(asked: Request) -> dict[str, Any]:
    """The ``--format json`` object for a request."""
    from shapecalc.rules import derive

    return derive(asked.config, dtype=asked.dtype, explain=asked.explain).to_json()


def answer_line(raw: bytes, first: bool = False) -> dict[str, Any]:
    """The ``--format json`` object for one line's config."""
    return answer(request_line(raw, first))


def run_batch(lines: Iterable[tuple[int, bytes | None]], write: Callable[[str], object]) -> list[int]:
    """Answer every line through ``write``, one JSON text per line; return the failed line numbers.

    A request seen lately is answered from memory: configs are immutable and
    an answer depends on nothing else.
    """
    import json

    failed: list[int] = []
    recent: dict[Request, str] = {}
    for number, raw in lines:
        if raw is not None and not raw.strip():
            continue
        try:
            if raw is None:
                raise ShapecalcError(f"line is longer than {MAX_LINE_BYTES} bytes")
            asked = request_line(raw, number == 1)
            text = recent.get(asked, "")
            if not text:
                text = json.dumps(answer(asked), ensure_ascii=False, separators=(",", ":"))
                if len(text) <= MEMO_CHARS:
                    if len(recent) >= MEMO_ENTRIES:
                        del recent[next(iter(recent))]  # the oldest
                    recent[asked] = text
        except Exception as error:  # one bad line must not stop the rest
            failed.append(number)
            message = str(error) if isinstance(error, ShapecalcError) else _internal(error)
            text = json.dumps({"line": number, "error": " ".join(message.split())}, separators=(",", ":"))
        write(text + "\n")
    return failed


def _internal(error: Exception) -> str:
    return f"internal error: {type(error).__name__}: {error}"
