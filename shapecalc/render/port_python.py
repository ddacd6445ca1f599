"""A recipe as a short NumPy function to paste: ``convert(weights) -> weights``.

The code is made from the recipe, with its numbers: every target tensor starts as zeros and
each part is one assignment of a source slice (``.T`` when transposed, ``+`` for a sum). Names
are string keys (``repr``), so no name from a file becomes code. Symbolic sizes are refused:
the function's slices need numbers.

>>> from shapecalc.configs import TorchRecurrentConfig
>>> from shapecalc.port.recipe import port_recipe
>>> recipe = port_recipe(TorchRecurrentConfig(cell="rnn", hidden_size=2, input_size=1), "keras")
>>> for line in python_function(recipe).splitlines()[23:29]:
...     print(line)
    out = {}
    out["kernel"] = t = numpy.zeros((1, 2), dtype)
    t[:, :] = w["weight_ih_l0"][:, :].T
    out["recurrent_kernel"] = t = numpy.zeros((2, 2), dtype)
    t[:, :] = w["weight_hh_l0"][:, :].T
    out["bias"] = t = numpy.zeros((2,), dtype)
"""

from __future__ import annotations

import json

from shapecalc.configs import config_summary
from shapecalc.dims import Dim, Expr
from shapecalc.errors import ShapecalcError
from shapecalc.port.recipe import FRAMEWORK_NAMES, Part, Recipe, Term, dims_of, index_text
from shapecalc.record import fields

_INDENT = "    "


def _number(size: Dim) -> str:
    return str(size)


def _shape(shape: tuple[Dim, ...]) -> str:
    return "(" + ", ".join(_number(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _key(name: str) -> str:
    """A tensor name as a Python string literal (JSON's quoting is Python's, and escapes controls)."""
    return json.dumps(name)


def _term(term: Term) -> str:
    return f"w[{_key(term.source)}]{index_text(term.index)}" + (".T" if term.transpose else "")


def _assignment(part: Part) -> str:
    gates = ""
    sources = "".join(dict.fromkeys(term.gate or "" for term in part.terms))
    if part.gate:
        gates = f"  # {part.gate}" + (f" <- {sources}" if sources and sources != part.gate else "")
    return f"t{index_text(part.at)} = " + " + ".join(_term(term) for term in part.terms) + gates


def python_function(recipe: Recipe) -> str:
    """The NumPy function that does what ``recipe`` says, as source text."""
    if any(not isinstance(size, int) for size in dims_of(recipe)):
        config = recipe.source_config
        key, value = next(
            (item.name, getattr(config, item.name))
            for item in fields(config)
            if item.name not in ("batch", "timesteps") and isinstance(getattr(config, item.name), Expr)
        )
        raise ShapecalcError(f"--format python writes NumPy code with numbers, got {str(value)!r}",
                             option=key)  # fmt: skip
    source = FRAMEWORK_NAMES[recipe.source_framework]
    target = FRAMEWORK_NAMES[recipe.target_framework]
    layers = [(f"To {layer.prefix}" if layer.prefix else "To", layer.config) for layer in recipe.layers]
    lines = [
        f'"""{source} {recipe.source_layer} to {target} {recipe.layers[0].layer}, as shapecalc port says.',
        "",
        f"From: {config_summary(recipe.source_config)}",
        *(f"{where}: {config_summary(config)}" for where, config in layers),
        '"""',
        "",
        "import numpy",
        "",
        "SOURCE_SHAPES = {",
        *(f"{_INDENT}{_key(s.name)}: {_shape(s.shape)}," for s in recipe.sources),
        "}",
        "",
        "",
        "def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:",
        f'{_INDENT}"""The {target} tensors, by name, from the {source} ones."""',
        f"{_INDENT}for name, shape in SOURCE_SHAPES.items():",
        f"{_INDENT * 2}if weights[name].shape != shape:",
        f'{_INDENT * 3}raise ValueError(f"{{name}}: shape {{weights[name].shape}}, expected {{shape}}")',
        f"{_INDENT}w = weights",
        f"{_INDENT}dtype = w[{_key(recipe.sources[0].name)}].dtype",
        f"{_INDENT}out = {{}}",
    ]
    for tensor in recipe.tensors:
        lines.append(f"{_INDENT}out[{_key(tensor.target)}] = t = numpy.zeros({_shape(tensor.shape)}, dtype)")
        lines += [f"{_INDENT}{_assignment(part)}" for part in tensor.parts if part.terms]
    lines.append(f"{_INDENT}return out")
    return "\n".join(lines) + "\n"
