"""What-if sweeps: size options given as lists or ranges, answered for every combination.

A size written ``32,64,128`` is a list, ``32:512:x2`` a geometric range (32, 64, ..., 512),
``8:32:8`` an arithmetic one (8, 16, 24, 32), ``1:4`` a range in steps of 1. An option of
several values (a kernel, an input frame) takes a list or range on each axis. Every
combination is one config; :func:`sweep` derives them all.

>>> choices("32:128:x2", "units")
('32', '64', '128')
>>> [row.values for row in sweep("lstm", {"units": "32,64", "input_dim": "20"}).rows]
[{'units': '32'}, {'units': '64'}]
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from shapecalc.api import request
from shapecalc.errors import ShapecalcError, shown
from shapecalc.options import COUNT, COUNTS, SHAPE, SIZE, SIZES, SORT_KEYS, find
from shapecalc.record import record
from shapecalc.result import LayerResult
from shapecalc.rules import derive

#: Most configs one sweep may answer: beyond that the answer is no longer a table to read.
MAX_COMBINATIONS = 10_000
#: Most values one range may produce (its own bound, before any product is formed).
MAX_RANGE = MAX_COMBINATIONS
_SWEPT_KINDS = (SIZE, SIZES, SHAPE, COUNT, COUNTS)


def is_sweep(text: str) -> bool:
    """Whether a typed value asks for several (a ``,`` list or a ``:`` range)."""
    return "," in text or ":" in text


def choices(text: str, key: str) -> tuple[str, ...]:
    """The values ``text`` stands for, as text for the option's own conversion."""
    values: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ShapecalcError(f"has an empty item in the list {shown(text)}", option=key)
        values += _range(part, key) if ":" in part else [part]
        if len(values) > MAX_RANGE:
            raise ShapecalcError(f"{shown(text)} gives more than {MAX_RANGE} values", option=key)
    return tuple(values)


def _whole(text: str, key: str, whole: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise ShapecalcError(f"a range needs whole numbers, got {shown(text)} in {shown(whole)}", option=key)
    return int(digits)


def _range(text: str, key: str) -> list[str]:
    """``start:stop[:step]``, ``step`` a number to add or ``xN`` to multiply by; ``stop`` included."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ShapecalcError(f"a range is start:stop or start:stop:step, got {shown(text)}", option=key)
    start, stop = _whole(parts[0], key, text), _whole(parts[1], key, text)
    step = parts[2].strip() if len(parts) == 3 else "1"
    geometric = step[:1] in ("x", "*")
    amount = _whole(step[1:] if geometric else step, key, text)
    if start < 1 or stop < start or amount < (2 if geometric else 1):
        need = "a factor of at least 2" if geometric else "a step of at least 1"
        raise ShapecalcError(f"a range runs from 1 or more up, with {need}, got {shown(text)}", option=key)
    values: list[str] = []
    value = start
    while value <= stop:
        values.append(str(value))
        if len(values) > MAX_RANGE:
            raise ShapecalcError(f"{shown(text)} gives more than {MAX_RANGE} values", option=key)
        value = value * amount if geometric else value + amount
    return values


def expand(options: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The swept keys, and one options dict per combination (in the order the values were given).

    >>> keys, combos = expand({"units": "8,16", "input_dim": "4", "kernel_size": ("3", "1,2")})
    >>> keys, [c["units"] for c in combos], [c["kernel_size"] for c in combos]
    (['units', 'kernel_size'], ['8', '8', '16', '16'], [('3', '1'), ('3', '2'), ('3', '1'), ('3', '2')])
    """
    axes: list[tuple[str, list[Any]]] = []
    for key, value in options.items():
        option = find(key)
        if option is None or option.kind not in _SWEPT_KINDS:
            continue
        if isinstance(value, str) and is_sweep(value):
            axes.append((key, list(choices(value, key))))
        elif (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and any(isinstance(item, str) and is_sweep(item) for item in value)
        ):
            per_axis = [choices(item, key) if isinstance(item, str) else (item,) for item in value]
            axes.append((key, list(itertools.product(*per_axis))))
    count = 1
    for _, values in axes:
        count *= len(values)
        if count > MAX_COMBINATIONS:
            raise ShapecalcError(
                f"the sweep has more than {MAX_COMBINATIONS:,} combinations; narrow a list or range",
                option=axes[0][0],
            )
    combos = [
        {**options, **dict(zip([key for key, _ in axes], chosen, strict=True))}
        for chosen in itertools.product(*(values for _, values in axes))
    ]
    return [key for key, _ in axes], combos


@record
class SweepRow:
    """One combination: the swept values as given, and its result."""

    values: dict[str, Any]
    result: LayerResult


@record
class SweepResult:
    """Every combination of a sweep, in order (or sorted by :func:`sort_rows`)."""

    layer: str
    keys: tuple[str, ...]
    rows: tuple[SweepRow, ...]


def sweep(kind: str, options: Mapping[str, Any]) -> SweepResult:
    """Derive layer ``kind`` for every combination the swept ``options`` make.

    A combination that fails names itself: ``units=0: units: must be a positive integer, got 0``.
    """
    keys, combos = expand(options)
    rows = []
    for combo in combos:
        values = {key: combo[key] for key in keys}
        try:
            asked = request(kind, combo)
            result = derive(asked.config, dtype=asked.dtype, explain=False)
        except ShapecalcError as error:
            where = ", ".join(f"{key}={_text(value)}" for key, value in values.items())
            raise ShapecalcError(error.message, error.option, code=error.code, where=where) from None
        rows.append(SweepRow(values, result))
    layer = rows[0].result.layer if rows else kind
    return SweepResult(layer, tuple(keys), tuple(rows))


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, tuple) else str(value)


def sort_rows(result: SweepResult, key: str) -> SweepResult:
    """``result`` with its rows sorted by ``key`` (symbolic counts as if every name were 1)."""
    from shapecalc.dims import evaluate

    if key not in SORT_KEYS:
        raise ShapecalcError(f"must be one of {', '.join(SORT_KEYS)}, got {shown(key)}", option="sort")

    def value(row: SweepRow) -> int:
        costs = row.result.costs
        count = row.result.params if key == "params" or costs is None else getattr(costs, key)
        if isinstance(count, int):
            return count
        return evaluate(count, dict.fromkeys(count.names(), 1))

    return SweepResult(result.layer, result.keys, tuple(sorted(result.rows, key=value)))
