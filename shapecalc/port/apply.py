"""Run a recipe on arrays: the source's weights in, the target's out.

NumPy is the optional extra ``shapecalc[port]``, imported here only (start-up speed, and the
rest of shapecalc runs without it). Every source tensor is checked first: a missing or
misshapen one is one line naming it.

>>> import numpy
>>> from shapecalc.configs import TorchRecurrentConfig
>>> from shapecalc.port.recipe import port_recipe
>>> recipe = port_recipe(TorchRecurrentConfig(cell="rnn", hidden_size=2, input_size=1), "keras")
>>> weights = {name: numpy.ones(source.shape) for name, source in
...            ((s.name, s) for s in recipe.sources)}
>>> out = apply_recipe(recipe, weights)
>>> out["kernel"].shape, out["bias"].tolist()
((1, 2), [2.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapecalc.dims import Dim
from shapecalc.errors import ShapecalcError
from shapecalc.port.records import Index, Recipe


def numpy_module() -> Any:
    """NumPy, or one line saying how to install it."""
    try:
        import numpy  # only on the port's array path: an optional extra
    except ImportError:
        raise ShapecalcError("converting weights needs numpy: pip install 'shapecalc[port]'") from None
    return numpy


def _size(size: Dim, what: str) -> int:
    if not isinstance(size, int):
        raise ShapecalcError(
            f"{what}: the recipe has the symbolic size {size}; give every size as a number to convert arrays"
        )
    return size


def _slice(index: Index, what: str) -> tuple[Any, ...]:
    out: list[Any] = []
    for axis in index:
        if axis is None or isinstance(axis, int):
            out.append(slice(None) if axis is None else axis)
        else:
            out.append(slice(_size(axis[0], what), _size(axis[1], what)))
    return tuple(out)


def apply_recipe(recipe: Recipe, weights: Mapping[str, Any]) -> dict[str, Any]:
    """The target's tensors, built from ``weights`` (source name -> array) as ``recipe`` says.

    The arrays keep the first source's dtype; zero parts are zeros of it.
    """
    numpy = numpy_module()
    arrays: dict[str, Any] = {}
    for source in recipe.sources:
        expected = tuple(_size(size, source.name) for size in source.shape)
        if source.name not in weights:
            raise ShapecalcError(f"missing source tensor {source.name!r}", option="weights")
        array = numpy.asarray(weights[source.name])
        if array.shape != expected:
            got = tuple(array.shape)
            raise ShapecalcError(f"source tensor {source.name!r} has shape {got}, expected {expected}",
                                 option="weights")  # fmt: skip
        arrays[source.name] = array
    dtype = next(iter(arrays.values())).dtype if arrays else numpy.float32
    out: dict[str, Any] = {}
    for tensor in recipe.tensors:
        built = numpy.zeros(tuple(_size(size, tensor.target) for size in tensor.shape), dtype=dtype)
        for part in tensor.parts:
            total = None
            for term in part.terms:
                piece = arrays[term.source][_slice(term.index, term.source)]
                piece = piece.T if term.transpose else piece
                total = piece if total is None else total + piece
            if total is not None:
                built[_slice(part.at, tensor.target)] = total
        out[tensor.target] = built
    return out
