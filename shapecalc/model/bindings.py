"""Values for the named sizes of a model's input shapes (``--set NAME=VALUE``).

A name the input shapes do not use is refused, naming those they do: a typo
must not leave a size symbolic unnoticed. ``timesteps`` and ``batch_size``, the
words of the layer commands and of Keras, stand for ``timestep`` and ``batch``
(``timesteps_2`` for ``timestep_2``).

>>> from shapecalc.dims import sym
>>> shapes = [(sym("batch"), sym("timestep"), 4)]
>>> resolve_bindings({"timesteps": 10, "batch_size": 8}, shapes)
{'timestep': 10, 'batch': 8}
>>> try:
...     resolve_bindings({"bacth": 32}, shapes)
... except ShapecalcError as error:
...     print(error)
--set: bacth is not a size of the model's inputs (did you mean 'batch'?); they have batch, timestep
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from shapecalc.dims import Dim, names_in
from shapecalc.errors import ShapecalcError
from shapecalc.model.graph import Shape

ALIASES = {"timesteps": "timestep", "batch_size": "batch"}
_ALIASED = re.compile(rf"(?P<word>{'|'.join(ALIASES)})(?P<suffix>_\d+)?")


def resolve_bindings(bindings: Mapping[str, Dim], shapes: Iterable[Shape]) -> dict[str, Dim]:
    """``bindings`` keyed by the symbols of ``shapes`` they name; a name none uses is refused."""
    used = sorted(names_in(size for shape in shapes for size in shape))
    resolved: dict[str, Dim] = {}
    for name, value in bindings.items():
        symbol = name if name in used else _alias(name)
        if symbol not in used:
            raise ShapecalcError(_not_used(name, used), option="--set")
        if symbol in resolved and resolved[symbol] != value:
            raise ShapecalcError(f"{symbol} is given two values", option="--set")
        resolved[symbol] = value
    return resolved


def _alias(name: str) -> str:
    match = _ALIASED.fullmatch(name)
    return f"{ALIASES[match['word']]}{match['suffix'] or ''}" if match else name


def _not_used(name: str, used: list[str]) -> str:
    if not used:
        return f"{name} is not a size of the model's inputs; their sizes are all numbers"
    close = difflib.get_close_matches(name, used, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{name} is not a size of the model's inputs{hint}; they have {', '.join(used)}"
