"""Sequence lengths for PyTorch's packed sequences, and what ``pack_padded_sequence`` makes of them.

Lengths are kept run-length encoded, as written: ``7,3,1`` is three runs of one
sequence each, ``100x16,50x16`` two runs of sixteen. Everything here works on
the runs, never on one entry per sequence or per step, so a hundred thousand
steps cost no more than one.

>>> lengths = parse_lengths("7,3,1", "lengths")
>>> lengths.sequences, lengths.total, lengths.longest, str(lengths)
(3, 11, 7, '7,3,1')
>>> lengths.batch_sizes()
((3, 1), (2, 2), (1, 4))
>>> expand(lengths.batch_sizes())
[3, 2, 2, 1, 1, 1, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapecalc.dims import MAX_INT
from shapecalc.errors import ShapecalcError, shown
from shapecalc.record import record

#: Most runs (comma-separated items) one list of lengths may hold.
MAX_RUNS = 10_000
#: Longest decimal a length or a count may have.
_DIGITS = 18


@record
class Lengths:
    """Sequence lengths as runs ``(length, count)``, in the order given (a count of 1: one sequence)."""

    runs: tuple[tuple[int, int], ...]

    def __str__(self) -> str:
        """The canonical text, accepted back: ``7,3,1``, ``100x16,50x16``."""
        return ",".join(f"{length}" if count == 1 else f"{length}x{count}" for length, count in self.runs)

    @property
    def sequences(self) -> int:
        """How many sequences: PyTorch's batch size ``N``."""
        return sum(count for _, count in self.runs)

    @property
    def total(self) -> int:
        """The sum of the lengths: the rows of the ``PackedSequence`` data."""
        return sum(length * count for length, count in self.runs)

    @property
    def longest(self) -> int:
        """The longest length: how many steps ``batch_sizes`` has."""
        return max(length for length, _ in self.runs)

    @property
    def decreasing(self) -> bool:
        """Whether the lengths never grow, which ``enforce_sorted=True`` requires.

        >>> parse_lengths("5x2,3", "lengths").decreasing, parse_lengths("3,5", "lengths").decreasing
        (True, False)
        """
        return all(later[0] <= earlier[0] for earlier, later in zip(self.runs, self.runs[1:], strict=False))

    def batch_sizes(self) -> tuple[tuple[int, int], ...]:
        """``batch_sizes`` run-length encoded as ``(size, steps)``: step ``t`` holds the
        sequences longer than ``t``, so the sizes fall where a length ends.

        >>> parse_lengths("100x16,50x16", "lengths").batch_sizes()
        ((32, 50), (16, 50))
        """
        counts: dict[int, int] = {}
        for length, count in self.runs:
            counts[length] = counts.get(length, 0) + count
        runs: list[tuple[int, int]] = []
        alive, start = self.sequences, 0
        for length in sorted(counts):
            runs.append((alive, length - start))
            alive, start = alive - counts[length], length
        return tuple(runs)


def expand(runs: Sequence[tuple[int, int]]) -> list[int]:
    """``(value, count)`` runs written out: for small lists (tests, short tables) only."""
    return [value for value, count in runs for _ in range(count)]


def parse_lengths(value: Any, key: str) -> Lengths:
    """Lengths from text (``7,3,1``, ``100x16,50x16``), a list of integers, or :class:`Lengths`.

    >>> parse_lengths([4, 4, 2], "lengths").runs
    ((4, 1), (4, 1), (2, 1))
    >>> parse_lengths("3,0", "lengths")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    shapecalc.errors.ShapecalcError: lengths: must be positive integers (...), got 0
    """
    if isinstance(value, Lengths):
        return value
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items or len(items) > MAX_RUNS:
        raise ShapecalcError(f"must list 1 to {MAX_RUNS} lengths, got {shown(value)}", option=key)
    runs = tuple(_run(item, key) for item in items)
    lengths = Lengths(runs)
    for what, number in (("sequences", lengths.sequences), ("steps in all", lengths.total)):
        if number > MAX_INT:
            raise ShapecalcError(f"must make at most {MAX_INT} {what}, got {shown(value)}", option=key)
    return lengths


def _run(item: Any, key: str) -> tuple[int, int]:
    if isinstance(item, int) and not isinstance(item, bool):
        parts: list[Any] = [item]
    elif isinstance(item, str):
        parts = [_whole(part) for part in item.strip().split("x", 1)]
    else:
        parts = [None]
    if any(part is None or part < 1 for part in parts):
        echo = parts[0] if isinstance(item, str) and len(parts) == 1 and parts[0] is not None else item
        raise ShapecalcError(
            f"must be positive integers (LENGTH or LENGTHxCOUNT, comma-separated), got {shown(echo)}",
            option=key,
        )
    return (parts[0], parts[1] if len(parts) > 1 else 1)


def _whole(text: str) -> int | None:
    """An integer literal (signed, so that ``-3`` is echoed as the number it is), else ``None``."""
    number = text.strip()
    digits = number[1:] if number[:1] in "+-" else number
    if digits.isascii() and digits.isdigit() and len(digits) <= _DIGITS:
        return int(number)
    return None
