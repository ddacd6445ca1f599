"""Option values converted by kind, with one message per mistake on every surface.

Text from the command line, JSON from batch mode and YAML or TOML from model
files all come through here, so ``units: 0`` gets the same reason wherever
it is written. Each function raises :class:`~shapecalc.errors.ShapecalcError`
naming the option's ``key``.

>>> to_size("W - 2", "units"), to_sizes(3, "kernel_size"), to_counts("2", "strides")
(Expr('W - 2'), (3,), (2,))
>>> to_size(0, "units")
Traceback (most recent call last):
...
shapecalc.errors.ShapecalcError: units: must be a positive integer, got 0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapecalc.dims import Dim, Expr, parse_dim
from shapecalc.errors import ShapecalcError, did_you_mean, shown
from shapecalc.geometry import check_positive
from shapecalc.packing import Lengths, parse_lengths

#: Longest decimal a count may have (int64).
_COUNT_DIGITS = 18


def to_dim(value: Any, key: str) -> Dim:
    """A dimension: an int, an :class:`Expr`, or text to parse. Not checked for sign."""
    if isinstance(value, bool):
        raise ShapecalcError(f"must be a positive integer or a name, got {shown(value)}", option=key)
    if isinstance(value, (int, Expr)):
        return value
    if isinstance(value, str):
        try:
            return parse_dim(value)
        except ShapecalcError as error:
            raise error.at(key) from None
    raise ShapecalcError(f"must be a positive integer or a name, got {shown(value)}", option=key)


def to_size(value: Any, key: str, *, allow_zero: bool = False) -> Dim:
    """A positive size (``allow_zero``: 0 too, meaning none)."""
    dim = to_dim(value, key)
    if allow_zero and dim == 0:
        return dim
    return check_positive(dim, key)


def _items(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def to_sizes(value: Any, key: str) -> tuple[Dim, ...]:
    """One size or a list of them; the layer checks how many."""
    return tuple(to_size(item, key) for item in _items(value))


def to_count(value: Any, key: str) -> int:
    """A positive integer literal: strides and layer counts cannot be symbolic."""
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit() and len(digits) <= _COUNT_DIGITS:
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ShapecalcError(f"must be a positive integer, got {shown(value)}", option=key)
    return check_positive(value, key)  # type: ignore[return-value]


def to_counts(value: Any, key: str) -> tuple[int, ...]:
    return tuple(to_count(item, key) for item in _items(value))


def to_flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ShapecalcError(f"must be true or false, got {shown(value)}", option=key)
    return value


def to_choice(value: Any, key: str, choices: tuple[str, ...], refused: dict[str, str]) -> str:
    """One of ``choices``; a value in ``refused`` gets its own reason."""
    if isinstance(value, str) and value in refused:
        raise ShapecalcError(f"{refused[value]}, got {shown(value)}", option=key)
    if not isinstance(value, str) or value not in choices:
        if len(choices) > _LISTED_CHOICES:  # Keras' activations: the first few, and the closest
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            listed = ", ".join(repr(choice) for choice in choices[:_LISTED_CHOICES])
            raise ShapecalcError(
                f"must be one of {len(choices)} names ({listed}, ...), got {shown(value)}{hint}", option=key
            )
        listed = ", ".join(repr(choice) for choice in choices)
        raise ShapecalcError(f"must be one of {listed}, got {shown(value)}", option=key)
    return value


def to_lengths(value: Any, key: str) -> Lengths:
    """Sequence lengths: ``7,3,1``, ``100x16,50x16`` or a list of positive integers."""
    return parse_lengths(value, key)


#: Longest list of choices an error message spells out.
_LISTED_CHOICES = 6
