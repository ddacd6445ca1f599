"""What every picture of a model shows: its title, one text row per layer and the totals.

The table, markdown, SVG and HTML renderers of a :class:`ModelResult` share these. Names come
from the model file, so here they are cut to :data:`~shapecalc.render.inert.NAME_LENGTH`
(each renderer then escapes them for its medium); JSON keeps them whole.

>>> from shapecalc.dims import sym
>>> shapes_text(((sym("batch"), 4), (sym("batch"), 4)))
'[(batch, 4), (batch, 4)]'
"""

from __future__ import annotations

from typing import NamedTuple

from shapecalc.dims import format_shape
from shapecalc.model.graph import Shape, TensorRef
from shapecalc.model.result import OK, LayerRow, ModelResult
from shapecalc.render.inert import cut
from shapecalc.render.rows import format_bytes, format_count, human_count


class ModelRow(NamedTuple):
    name: str
    class_name: str
    shape: str
    params: str
    connected_to: str


def shapes_text(shapes: tuple[Shape, ...] | None) -> str:
    """``(batch, 32)``; several outputs as ``[(batch, 4), (batch, 4)]``; unknown as ``?``."""
    if shapes is None:
        return "?"
    if len(shapes) == 1:
        return format_shape(shapes[0])
    return "[" + ", ".join(format_shape(shape) for shape in shapes) + "]"


def reference_text(reference: TensorRef) -> str:
    """``encoder[0][1]``, the layer's name cut short."""
    return f"{cut(reference.layer)}[{reference.node}][{reference.index}]"


def class_text(row: LayerRow) -> str:
    """The layer's class, and its status when its shapes are unknown: ``Foo (unknown)``."""
    class_name = cut(row.class_name)
    return class_name if row.status == OK else f"{class_name} ({row.status})"


def model_rows(result: ModelResult) -> list[ModelRow]:
    rows = []
    for row in result.rows:
        params = "?" if row.params is None else format_count(row.params)
        connected = ", ".join(reference_text(ref) for ref in row.connected_to)
        rows.append(ModelRow(cut(row.name), class_text(row), shapes_text(row.shapes), params, connected))
    return rows


def columns(result: ModelResult) -> tuple[str, ...]:
    base = ("layer", "class", "output shape", "params")
    return base if result.sequential else (*base, "connected to")


def title(result: ModelResult) -> str:
    return f'Model "{cut(result.name)}" ({cut(result.source)})'


def footer_lines(result: ModelResult) -> list[str]:
    """Totals like Keras' summary, then MACs, conditions and what is unknown."""
    lines = [
        f"Total params: {format_count(result.params)}",
        f"Trainable params: {format_count(result.trainable)}",
        f"Non-trainable params: {format_count(result.non_trainable)}",
        f"Weight memory ({result.dtype}): {format_bytes(result.weight_bytes)}",
    ]
    if result.macs is not None:
        lines.append(f"MACs: {human_count(result.macs)}")
    if result.flops is not None:
        lines.append(f"FLOPs: {human_count(result.flops)}")
    step, sequence = result.activation_bytes
    if result.activations != (0, 0):
        lines.append(
            f"Recurrent activations ({result.dtype}): {format_bytes(step)} per step, "
            f"{format_bytes(sequence)} for the whole sequence (kept for training)"
        )
    lines += [f"valid when: {condition}" for condition in result.constraints]
    unknown = result.unknown
    if unknown:
        names = ", ".join(f"{cut(row.name)} ({row.status})" for row in unknown)
        lines.append(
            f"shapes unknown from: {names}; the totals leave these layers out and MACs are not counted"
        )
    for found in result.unknown_classes:
        layers = ", ".join(cut(name) for name in found.layers)
        plural = "s" if len(found.layers) > 1 else ""
        lines.append(f"unknown class {cut(found.class_name)} (layer{plural} {layers}): {found.reason}")
    return lines
