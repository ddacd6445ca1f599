"""``shapecalc model FILE --format svg|html``: the model's layers as a graph, top to bottom.

One box per layer (name, class, params); each arrow carries the shape of the
output it takes from its source (``encoder[0][1]`` is the encoder's second
output). Layers that feed nothing get an ``output`` node, so the model's
output shapes are on the picture too. Layout: :mod:`~shapecalc.render.graph_layout`.

>>> from shapecalc.model.reader import parse_model
>>> from shapecalc.model.engine import propagate
>>> text = b'{"input": [10, 4], "layers": [{"type": "dense", "units": 2}]}'
>>> nodes, edges = model_graph(propagate(parse_model(text, "m.json")))
>>> [n.id for n in nodes], [(e.source, e.target, e.label) for e in edges]
(['input', 'dense', 'output'], [('input', 'dense', '(batch, 10, 4)'), ('dense', 'output', '(batch, 10, 2)')])
"""

from __future__ import annotations

from shapecalc.dims import format_shape
from shapecalc.model.result import OK, LayerRow, ModelResult
from shapecalc.render.drawing import Drawing, plain_line
from shapecalc.render.graph_layout import GraphEdge, GraphNode, layout_graph
from shapecalc.render.html import page, text_list
from shapecalc.render.inert import cut
from shapecalc.render.model_rows import class_text, columns, footer_lines, model_rows, reference_text, title
from shapecalc.render.rows import format_count
from shapecalc.render.svg import stack
from shapecalc.render.svg_markup import escape, to_svg


def render_model_svg(result: ModelResult) -> str:
    return to_svg(model_picture(result), title(result), "Model graph drawn by shapecalc")


def model_picture(result: ModelResult) -> Drawing:
    """Title, layer graph and the totals, stacked."""
    nodes, edges = model_graph(result)
    legend = [plain_line(line) for line in footer_lines(result)]
    return stack(title(result), layout_graph(nodes, edges), legend)


def model_graph(result: ModelResult) -> tuple[list[GraphNode], list[GraphEdge]]:
    """The layers as graph nodes and their connections as labelled edges."""
    rows = {row.name: row for row in result.rows}
    nodes = [_layer_node(row) for row in result.rows]
    edges: list[GraphEdge] = []
    consumed: set[str] = set()
    for row in result.rows:
        for reference in row.connected_to:
            source = reference.layer
            if source not in rows:
                continue
            label = _output_text(rows[source], reference.index)
            tooltip = f"{reference_text(reference)}: {label}"
            edges.append(GraphEdge(source, row.name, label, keys=(cut(source),), tooltip=tooltip))
            consumed.add(source)
    sinks = [row for row in result.rows if row.name not in consumed]
    names = set(rows)
    for number, row in enumerate(sinks):
        count = len(row.shapes) if row.shapes else 1
        for index in range(count):
            node_id = _free_name("output" if len(sinks) * count == 1 else f"output_{number}_{index}", names)
            nodes.append(GraphNode(node_id, (plain_line("output"),), style="input"))
            label = _output_text(row, index)
            tooltip = f"{cut(row.name)}[0][{index}]: {label}"
            edges.append(GraphEdge(row.name, node_id, label, keys=(cut(row.name),), tooltip=tooltip))
    return nodes, edges


def _layer_node(row: LayerRow) -> GraphNode:
    """A layer's box: its name and class cut short (the layout measures them), then params."""
    name, class_name = cut(row.name), class_text(row)
    params = "?" if row.params is None else format_count(row.params)
    lines = (plain_line(name, bold=True), plain_line(class_name), plain_line(f"params {params}"))
    style = "input" if row.class_name == "InputLayer" else "" if row.status == OK else "unknown"
    return GraphNode(row.name, lines, keys=(name,), tooltip=f"{name}: {class_name}", style=style)


def _output_text(row: LayerRow, index: int) -> str:
    if row.shapes is None or index >= len(row.shapes):
        return "?"
    return format_shape(row.shapes[index])


def _free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def render_model_html(result: ModelResult) -> str:
    """The page for a model: the graph, and the layer table; hovering a layer finds it in both."""
    heads = columns(result)
    table = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in heads) + "</tr></thead><tbody>"]
    for row in model_rows(result):
        cells = [
            f"<code>{escape(row.name)}</code>",
            escape(row.class_name),
            escape(row.shape),
            escape(row.params),
        ]
        if "connected to" in heads:
            cells.append(escape(row.connected_to))
        classes = ["", "", "", ' class="num"', ""]
        body = "".join(f"<td{cls}>{cell}</td>" for cls, cell in zip(classes, cells, strict=False))
        table.append(f'<tr data-tensor="{escape(row.name)}">{body}</tr>')
    table.append("</tbody></table>")
    table.append(text_list(footer_lines(result)))
    sections = [("Graph", render_model_svg(result)), ("Layers", "\n".join(table))]
    return page(title(result), sections, hint="Hover a layer to find it in the graph and the table")
