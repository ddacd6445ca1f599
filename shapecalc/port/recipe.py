"""A port's recipe: for each tensor the target framework builds, where its pieces come from.

:func:`port_recipe` moves the weights of one recurrent layer from one convention to another
(Keras 3, PyTorch, ONNX). Each :class:`TargetTensor` is filled by :class:`Part` s: a region
of the target gets one slice of a source tensor (a :class:`Term`), possibly transposed, or
the sum of several (PyTorch's two LSTM biases into Keras' one), or stays zero (Keras' one
bias leaves PyTorch's ``bias_hh`` zero). Names are the frameworks' own, as shapecalc's
tables print them. The recipe is pure and exact; :mod:`shapecalc.port.apply` runs it on arrays.

>>> from shapecalc.configs import RecurrentConfig
>>> recipe = port_recipe(RecurrentConfig(cell="lstm", units=32, input_dim=20), "torch")
>>> [(t.target, t.shape) for t in recipe.tensors]
[('weight_ih_l0', (128, 20)), ('weight_hh_l0', (128, 32)), ('bias_ih_l0', (128,)), ('bias_hh_l0', (128,))]
>>> recipe.tensor("weight_ih_l0").how, recipe.tensor("bias_hh_l0").how
('kernel, transposed; gates i f c o -> i f g o', 'zeros')
>>> gru = port_recipe(RecurrentConfig(cell="gru", units=32, input_dim=20), "torch")
>>> [(index_text(p.at), p.gate, index_text(p.terms[0].index)) for p in gru.tensor("bias_hh_l0").parts]
[('[0:32]', 'r', '[1, 32:64]'), ('[32:64]', 'z', '[1, 0:32]'), ('[64:96]', 'n', '[1, 64:96]')]
"""

from __future__ import annotations

from shapecalc.cells import CELLS
from shapecalc.configs import LayerConfig, OnnxRecurrentConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.dims import Dim
from shapecalc.options import FRAMEWORKS
from shapecalc.port.gates import fill_tensors, read_cells
from shapecalc.port.records import (
    FRAMEWORK_NAMES,
    Axis,
    Index,
    Part,
    Recipe,
    Refusal,
    SourceTensor,
    TargetLayer,
    TargetTensor,
    Term,
    axis_text,
    index_text,
)
from shapecalc.port.targets import check_target, framework_of, refusal, target_layers
from shapecalc.record import replace
from shapecalc.rules import derive

__all__ = [
    "FRAMEWORK_NAMES",
    "Axis",
    "Index",
    "Part",
    "Recipe",
    "Refusal",
    "SourceTensor",
    "TargetLayer",
    "TargetTensor",
    "Term",
    "axis_text",
    "index_text",
    "port_recipe",
    "refusal",
]


def port_recipe(config: LayerConfig, to: str) -> Recipe:
    """The recipe moving the weights of the layer ``config`` describes to framework ``to``.

    ``config`` is a Keras :class:`~shapecalc.configs.RecurrentConfig`, a
    :class:`~shapecalc.configs.TorchRecurrentConfig` or an
    :class:`~shapecalc.configs.OnnxRecurrentConfig`; ``to`` is ``keras``, ``torch`` or ``onnx``.
    A port the target cannot compute exactly raises :class:`~shapecalc.errors.ShapecalcError`
    naming the source's option that stops it (``reset_after``, ``proj_size``, ...).
    """
    source = framework_of(config)
    layers = target_layers(config, check_target(to))
    result = derive(config)
    hidden = config.units if isinstance(config, RecurrentConfig) else config.hidden_size  # type: ignore[union-attr]
    cells = read_cells(result, hidden)
    tensors: list[TargetTensor] = []
    for level, layer in enumerate(layers):
        for tensor in fill_tensors(derive(layer.config), cells, level, layer.prefix):
            parts = _merged(tensor.parts)
            tensors.append(replace(tensor, parts=parts, how=_how(parts, config.cell, source, to)))
    sources = tuple(SourceTensor(t.name, t.shape) for t in result.tensors if t.role == "weight")
    refusals = tuple(
        found for other in FRAMEWORKS if other not in (source, to) and (found := refusal(config, other))
    )
    return Recipe(
        cell=config.cell,
        source_framework=source,
        target_framework=to,
        source_layer=result.layer,
        source_config=config,
        layers=layers,
        sources=sources,
        tensors=tuple(tensors),
        notes=_notes(config, layers, to),
        refusals=refusals,
    )


def _adjacent(first: Axis, second: Axis) -> bool:
    return isinstance(first, tuple) and isinstance(second, tuple) and first[1] == second[0]


def _one_step(first: Index, second: Index) -> int | None:
    """The one axis on which slice ``second`` continues slice ``first`` (else ``None``)."""
    differing = [k for k, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    if len(differing) == 1 and _adjacent(first[differing[0]], second[differing[0]]):
        return differing[0]
    return None


def _joined(index: Index, later: Index, axis: int) -> Index:
    start, stop = index[axis], later[axis]
    assert isinstance(start, tuple) and isinstance(stop, tuple)
    return (*index[:axis], (start[0], stop[1]), *index[axis + 1 :])


def _continues(part: Part, later: Part) -> Part | None:
    """``part`` and ``later`` as one part, when ``later`` fills the next block of the target from the
    next block of every same source (gates in the same order, as Keras GRU's z, r, h into ONNX's)."""
    if part.direction != later.direction or len(part.terms) != len(later.terms):
        return None
    at = _one_step(part.at, later.at)
    if at is None:
        return None
    terms = []
    for term, next_term in zip(part.terms, later.terms, strict=True):
        if (term.source, term.transpose) != (next_term.source, next_term.transpose):
            return None
        axis = _one_step(term.index, next_term.index)
        if axis is None:
            return None
        gate = (term.gate or "") + (next_term.gate or "")
        terms.append(replace(term, index=_joined(term.index, next_term.index, axis), gate=gate or None))
    gate = (part.gate or "") + (later.gate or "")
    return Part(_joined(part.at, later.at, at), tuple(terms), gate or None, part.direction)


def _merged(parts: tuple[Part, ...]) -> tuple[Part, ...]:
    """``parts`` with runs of contiguous copies (or zeros) joined into one part each."""
    out: list[Part] = []
    for part in parts:
        joined = _continues(out[-1], part) if out else None
        if joined is not None:
            out[-1] = joined
        else:
            out.append(part)
    return tuple(out)


def _how(parts: tuple[Part, ...], cell: str, source: str, to: str) -> str:
    """A few words on how a target tensor is made: ``kernel, transposed; gates i f c o -> i f g o``."""
    if all(part.zeros for part in parts):
        return "zeros"
    names = list(dict.fromkeys(term.source for part in parts for term in part.terms))
    words = [" + ".join(names) if any(len(part.terms) > 1 for part in parts) else ", ".join(names)]
    if any(term.transpose for part in parts for term in part.terms):
        words.append("transposed")
    text = ", ".join(words)
    before, after = CELLS[cell].convention(source).order, CELLS[cell].convention(to).order
    if before and (before != after or any(part.gate and len(part.gate) == 1 for part in parts)):
        text += f"; gates {' '.join(before)} -> {' '.join(after)}"
    if any(part.zeros for part in parts):
        text += "; zeros where the source has no such bias"
    return text


def _notes(config: LayerConfig, layers: tuple[TargetLayer, ...], to: str) -> tuple[str, ...]:
    notes = []
    if len(layers) > 1:
        notes.append(
            f"num_layers={len(layers)}: one {FRAMEWORK_NAMES[to]} "
            f"{'layer' if to == 'keras' else 'node'} per level, tensors prefixed layer0/, layer1/, ..."
        )
    merge = config.merge_mode if isinstance(config, RecurrentConfig) and config.bidirectional else "concat"
    if merge != "concat" and to == "onnx":
        notes.append(f"ONNX keeps the directions apart in Y: merge them with {merge!r}.")
    target = layers[0].config
    if isinstance(target, OnnxRecurrentConfig) and target.nonlinearity != "tanh":
        names = [target.nonlinearity.capitalize()] * target.directions
        notes.append(f"The RNN node's activations={names!r}, one per direction (ONNX's default is Tanh).")
    if isinstance(config, (TorchRecurrentConfig, OnnxRecurrentConfig)) and to == "keras":
        notes.append("The Keras layers return every step and the final states, as PyTorch and ONNX do.")
    return tuple(notes)


def dims_of(recipe: Recipe) -> tuple[Dim, ...]:
    """Every size a recipe's shapes hold (to tell a concrete recipe from a symbolic one)."""
    sizes: list[Dim] = [size for source in recipe.sources for size in source.shape]
    sizes += [size for tensor in recipe.tensors for size in tensor.shape]
    return tuple(sizes)
