"""The layered layout for model pictures, on synthetic graphs: nothing overlaps,
every edge runs from its source's bottom to its target's top, and layers
follow the longest path."""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.errors import ShapecalcError
from shapecalc.render.drawing import Drawing, collisions, plain_line
from shapecalc.render.graph_layout import GraphEdge, GraphNode, layout_graph
from shapecalc.render.svg_markup import to_svg

LONG = "(batch, (timestep - 3)//2 + 1, (very_long_symbolic_width - 7)//4 + 1, 64)"


def node(name: str, cls: str = "Dense", params: int = 0) -> GraphNode:
    return GraphNode(name, (plain_line(name, bold=True), plain_line(cls), plain_line(f"params {params:,}")))


def boxes(drawing: Drawing) -> dict[str, object]:
    return {item.id: item.rect for item in drawing.items if item.kind == "layer"}


def check(drawing: Drawing, edges: list[GraphEdge]) -> None:
    """No overlaps; each path leaves its source's bottom and enters its target's top."""
    assert collisions(drawing) == []
    rects = boxes(drawing)
    assert len(drawing.paths) == len(edges)
    for path, edge in zip(drawing.paths, edges, strict=True):
        source, target = rects[edge.source], rects[edge.target]
        (x0, y0), (x1, y1) = path.points[0], path.points[-1]
        if source.cy < target.cy:
            assert y0 == pytest.approx(source.bottom, abs=0.01) and source.x < x0 < source.right
            assert y1 == pytest.approx(target.y, abs=0.01) and target.x < x1 < target.right
            ys = [y for _, y in path.points]
            assert ys == sorted(ys)
        assert edge.source in path.owns and edge.target in path.owns
    ET.fromstring(to_svg(drawing, "graph"))


def test_a_stack_is_one_straight_column():
    names = ["input", "lstm_1", "lstm_2", "dense"]
    nodes = [node(n) for n in names]
    edges = [GraphEdge(a, b, "(batch, 32)") for a, b in itertools.pairwise(names)]
    drawing = layout_graph(nodes, edges)
    check(drawing, edges)
    rects = boxes(drawing)
    assert len({round(rects[n].cx, 2) for n in names}) == 1
    assert [rects[n].cy for n in names] == sorted(rects[n].cy for n in names)
    labels = [item for item in drawing.items if item.kind == "label"]
    assert [item.lines[0].text for item in labels] == ["(batch, 32)"] * 3
    # each label sits right under its source, above the next box
    for label, (upper, lower) in zip(labels, itertools.pairwise(names), strict=True):
        assert rects[upper].bottom < label.rect.y < label.rect.bottom < rects[lower].y


def test_branches_and_merge_share_layers():
    nodes = [node(n) for n in ("in", "left", "right", "add")]
    edges = [
        GraphEdge("in", "left", LONG),
        GraphEdge("in", "right", LONG),
        GraphEdge("left", "add", LONG),
        GraphEdge("right", "add", LONG),
    ]
    drawing = layout_graph(nodes, edges)
    check(drawing, edges)
    rects = boxes(drawing)
    assert rects["left"].cy == rects["right"].cy
    assert rects["left"].right <= rects["right"].x or rects["right"].right <= rects["left"].x


def test_seq2seq_with_states_and_a_late_input():
    nodes = [node(n) for n in ("enc_in", "embed", "encoder", "dec_in", "decoder", "dense")]
    edges = [
        GraphEdge("enc_in", "embed", "(batch, T)"),
        GraphEdge("embed", "encoder", "(batch, T, 64)"),
        GraphEdge("encoder", "decoder", "(batch, 32)"),
        GraphEdge("encoder", "decoder", "(batch, 32)"),
        GraphEdge("dec_in", "decoder", "(batch, T2, 20)"),
        GraphEdge("decoder", "dense", "(batch, T2, 32)"),
    ]
    drawing = layout_graph(nodes, edges)
    check(drawing, edges)
    rects = boxes(drawing)
    # the decoder's own input is pulled down next to the encoder, not left at the top
    assert rects["dec_in"].cy == rects["encoder"].cy


def test_wide_fan_out_and_skip_connections():
    branches = [f"branch_{i}" for i in range(12)]
    nodes = [node("in"), *(node(b) for b in branches), node("concat", "Concatenate"), node("out")]
    edges = [GraphEdge("in", b, LONG) for b in branches]
    edges += [GraphEdge(b, "concat", f"(batch, {i})") for i, b in enumerate(branches)]
    edges += [GraphEdge("concat", "out", "(batch, 78)"), GraphEdge("in", "out", LONG)]
    drawing = layout_graph(nodes, edges)
    check(drawing, edges)


def test_a_cycle_still_draws_with_the_arrow_at_its_target():
    nodes = [node("a"), node("b")]
    edges = [GraphEdge("a", "b", "(1,)"), GraphEdge("b", "a", "(2,)")]
    drawing = layout_graph(nodes, edges)
    assert collisions(drawing) == []
    back = drawing.paths[1]
    rects = boxes(drawing)
    assert back.points[-1][1] == pytest.approx(rects["a"].bottom, abs=0.01)


@pytest.mark.parametrize(
    ("nodes", "edges", "message"),
    [
        ([node("a"), node("a")], [], "unique"),
        ([node("a")], [GraphEdge("a", "b")], "unknown node 'b'"),
        ([node("a")], [GraphEdge("a", "a")], "to itself"),
    ],
)
def test_bad_graphs_are_refused(nodes, edges, message):
    with pytest.raises(ShapecalcError, match=message):
        layout_graph(nodes, edges)


@st.composite
def dags(draw):
    count = draw(st.integers(1, 12))
    names = [f"n{i}" for i in range(count)]
    nodes = [
        GraphNode(n, (plain_line(n + "_" * draw(st.integers(0, 30))), plain_line("Layer"))) for n in names
    ]
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)).filter(lambda p: p[0] < p[1])
    chosen = draw(st.lists(pairs, max_size=20)) if count > 1 else []
    labels = st.text(alphabet="(batch, 0123456789WH+-*/)", min_size=0, max_size=60)
    edges = [GraphEdge(names[a], names[b], draw(labels)) for a, b in chosen]
    return nodes, edges


@settings(max_examples=60, deadline=None)
@given(dags())
def test_random_dags_never_overlap(graph):
    nodes, edges = graph
    check(layout_graph(nodes, edges), edges)


def test_a_deep_stack_lays_out():
    names = [f"layer_{i}" for i in range(2000)]
    edges = [GraphEdge(a, b, "(batch, 32)") for a, b in itertools.pairwise(names)]
    assert len(layout_graph([node(n) for n in names], edges).paths) == 1999


@pytest.mark.slow
def test_a_deep_stack_lays_out_quickly():
    names = [f"layer_{i}" for i in range(2000)]
    edges = [GraphEdge(a, b, "(batch, 32)") for a, b in itertools.pairwise(names)]
    start = time.perf_counter()
    layout_graph([node(n) for n in names], edges)
    assert time.perf_counter() - start < 5.0
