"""A port's recipe as a table, JSON, or a NumPy function to paste. Formats only.

>>> from shapecalc.configs import RecurrentConfig
>>> from shapecalc.port.recipe import port_recipe
>>> recipe = port_recipe(RecurrentConfig(cell="rnn", units=2, input_dim=1), "torch")
>>> print(render_port(recipe, "table", width=100), end="")
Port: Keras SimpleRNN -> PyTorch nn.RNN
  from: units=2, input_dim=1
  to:   hidden_size=2, input_size=1, batch_first=True
<BLANKLINE>
  target         shape    part    from                     gates
 ───────────────────────────────────────────────────────────────
  weight_ih_l0   (2, 1)   [:, :]  kernel[:, :]ᵀ
  weight_hh_l0   (2, 2)   [:, :]  recurrent_kernel[:, :]ᵀ
  bias_ih_l0     (2,)     [:]     bias[:]
  bias_hh_l0     (2,)     [:]     zeros
<BLANKLINE>
Also ports to ONNX: --to onnx
"""

from __future__ import annotations

import json
from typing import Any

from shapecalc.configs import config_summary, config_to_json
from shapecalc.dims import Dim, to_json
from shapecalc.errors import ShapecalcError
from shapecalc.port.recipe import FRAMEWORK_NAMES, Part, Recipe, Term, index_text
from shapecalc.render.inert import terminal

PORT_FORMATS = ("table", "json", "python")
#: Keys of the JSON answer's version: a new key is compatible, a changed one is not.
PORT_SCHEMA_VERSION = 1


def render_port(recipe: Recipe, fmt: str, *, width: int | None = None) -> str:
    """``recipe`` in format ``fmt``: ``table``, ``json`` or ``python``."""
    if fmt == "json":
        return json.dumps(port_json(recipe), indent=2, ensure_ascii=False) + "\n"
    if fmt == "table":
        return _table(recipe, width)
    if fmt == "python":
        from shapecalc.render.port_python import python_function  # only this format writes code

        return python_function(recipe)
    raise ShapecalcError(f"must be one of {', '.join(PORT_FORMATS)}, got {fmt!r}", option="format")


def _shape(shape: tuple[Dim, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def term_text(term: Term) -> str:
    """``kernel[:, 0:32]ᵀ``: a slice of a source, ``ᵀ`` when transposed."""
    return f"{terminal(term.source)}{index_text(term.index)}{'ᵀ' if term.transpose else ''}"


def part_text(part: Part) -> str:
    """What fills a part: ``kernel[:, 0:32]ᵀ``, ``bias_ih_l0[0:32] + bias_hh_l0[0:32]`` or ``zeros``."""
    return " + ".join(term_text(term) for term in part.terms) if part.terms else "zeros"


def _gates(part: Part) -> str:
    """``ifgo ← ifco``: the target's gates and the source's they come from."""
    sources = "".join(dict.fromkeys(term.gate or "" for term in part.terms))
    if not part.gate:
        return ""
    return f"{part.gate} ← {sources}" if sources else part.gate


def _heading(recipe: Recipe) -> list[str]:
    target = recipe.layers[0].layer + (f" x{len(recipe.layers)}" if len(recipe.layers) > 1 else "")
    lines = [
        f"Port: {FRAMEWORK_NAMES[recipe.source_framework]} {recipe.source_layer} -> "
        f"{FRAMEWORK_NAMES[recipe.target_framework]} {target}",
        f"  from: {config_summary(recipe.source_config)}",
    ]
    for layer in recipe.layers:
        where = f"to {layer.prefix}:" if layer.prefix else "to:  "
        lines.append(f"  {where} {config_summary(layer.config)}")
    return lines


def _rows(recipe: Recipe) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for tensor in recipe.tensors:
        for index, part in enumerate(tensor.parts):
            head = (terminal(tensor.target), _shape(tensor.shape)) if index == 0 else ("", "")
            rows.append((*head, index_text(part.at), part_text(part), _gates(part)))
    return rows


def _table(recipe: Recipe, width: int | None) -> str:
    lines = [wrapped for line in _heading(recipe) for wrapped in _wrapped(line, width, "      ")]
    lines.append("")
    heads = ("target", "shape", "part", "from", "gates")
    rows = _rows(recipe)
    widths = [max(len(head), *(len(row[k]) for row in rows)) for k, head in enumerate(heads)]
    gaps = (3, 3, 2, 2)
    total = 2 + sum(widths) + sum(gaps)
    if width is not None and total > width:  # too wide: each tensor, then its parts as assignments
        for row in rows:
            if row[0]:
                lines.append(f"  {row[0]} {row[1]}")
            text = f"    {row[2]} = {row[3]}" + (f"   ({row[4]})" if row[4] else "")
            lines += _wrapped(text, width, "        ")
    else:

        def line(cells: tuple[str, ...]) -> str:
            text = "  " + cells[0].ljust(widths[0])
            for cell, size, gap in zip(cells[1:], widths[1:], gaps, strict=True):
                text += " " * gap + cell.ljust(size)
            return text.rstrip()

        lines += [line(heads), " " + "─" * (total - 1)]
        lines += [line(row) for row in rows]
    if recipe.notes:
        lines.append("")
        for note in recipe.notes:
            lines += _wrapped(f"Note: {note}", width, "  ")
    lines.append("")
    ends = (recipe.source_framework, recipe.target_framework)
    others = [framework for framework in FRAMEWORK_NAMES if framework not in ends]
    refused = {refusal.to: refusal for refusal in recipe.refusals}
    for other in others:
        name = FRAMEWORK_NAMES[other]
        if other in refused:
            why = refused[other]
            lines += _wrapped(f"Not to {name} ({why.option}): {why.message}", width, "  ")
        else:
            lines.append(f"Also ports to {name}: --to {other}")
    return "\n".join(lines) + "\n"


def _wrapped(text: str, width: int | None, indent: str) -> list[str]:
    """``text`` in lines of at most ``width`` (unlimited: ``None``), later lines indented."""
    if width is None or len(text) <= width:
        return [text]
    import textwrap  # only for a line too long for the terminal

    return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) or [text]


def _term_json(term: Term) -> dict[str, Any]:
    return {"source": term.source, "slice": index_text(term.index), "transpose": term.transpose,
            "source_gate": term.gate}  # fmt: skip


def _part_json(part: Part) -> dict[str, Any]:
    out: dict[str, Any] = {"at": index_text(part.at), "gate": part.gate, "direction": part.direction}
    if not part.terms:
        out["zeros"] = True
    elif len(part.terms) == 1:
        out.update(_term_json(part.terms[0]))
    else:
        out["sum"] = [_term_json(term) for term in part.terms]
    return out


def port_json(recipe: Recipe) -> dict[str, Any]:
    """The JSON answer: what goes in, what comes out, and each target tensor's parts."""
    return {
        "schema_version": PORT_SCHEMA_VERSION,
        "from": recipe.source_framework,
        "to": recipe.target_framework,
        "cell": recipe.cell,
        "source": {
            "layer": recipe.source_layer,
            "config": config_to_json(recipe.source_config, every_field=True),
            "tensors": [{"name": s.name, "shape": [to_json(d) for d in s.shape]} for s in recipe.sources],
        },
        "target": [
            {"layer": t.layer, "prefix": t.prefix, "config": config_to_json(t.config, every_field=True)}
            for t in recipe.layers
        ],
        "tensors": [
            {
                "target": tensor.target,
                "shape": [to_json(d) for d in tensor.shape],
                "how": tensor.how,
                "parts": [_part_json(part) for part in tensor.parts],
            }
            for tensor in recipe.tensors
        ],
        "notes": list(recipe.notes),
        "refusals": [{"to": r.to, "option": r.option, "message": r.message} for r in recipe.refusals],
    }
