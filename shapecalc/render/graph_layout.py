"""A layered (Sugiyama-style) layout for model graphs, drawn top to bottom.

Nodes are boxes with lines of text; edges carry a label (a shape). The steps
are the classic ones, kept small:

1. **layers**: longest path from the inputs; inputs that feed only a later
   layer are pulled down next to it;
2. **labels as nodes**: every layer index is doubled and each edge gets a
   label node in the odd layer right below its source (as dagre does), plus
   a thin dummy node in every further layer it crosses; so labels take part
   in the layout and cannot overlap anything;
3. **order** within each layer by barycenter sweeps, keeping the order with
   the fewest crossings;
4. **x positions** by least squares towards the neighbours' centres under
   "no overlap, keep the order" (pool-adjacent-violators), alternating sweeps;
5. **edges** run straight down through their layers and curve only in the
   gaps between layers, where there are no boxes.

>>> from shapecalc.render.drawing import plain_line
>>> nodes = [GraphNode(n, (plain_line(n),)) for n in ("in", "a", "b", "out")]
>>> edges = [GraphEdge("in", "a", "(1, 2)"), GraphEdge("in", "b", "(1, 2)"),
...          GraphEdge("a", "out", "(1, 3)"), GraphEdge("b", "out", "(1, 3)")]
>>> drawing = layout_graph(nodes, edges)
>>> boxes = {item.id: item.rect for item in drawing.items if item.kind == "layer"}
>>> boxes["a"].cy == boxes["b"].cy, boxes["in"].cy < boxes["a"].cy < boxes["out"].cy
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from shapecalc.errors import ShapecalcError
from shapecalc.render.drawing import (
    FONT_SIZE,
    LABEL_SIZE,
    Drawing,
    Item,
    Path,
    Point,
    Rect,
    TextLine,
    item_size,
    shape_lines,
)

NODE_GAP = 24.0
RANK_GAP = 18.0
MARGIN = 12.0
DUMMY_WIDTH = 10.0
PORT_SPACING = 18.0
ORDER_SWEEPS = 8
PLACE_SWEEPS = 6


@dataclass(frozen=True)
class GraphNode:
    """A box: ``lines`` of text (name, class, params, ...)."""

    id: str
    lines: tuple[TextLine, ...]
    keys: tuple[str, ...] = ()
    tooltip: str = ""
    style: str = ""


@dataclass(frozen=True)
class GraphEdge:
    """An arrow from ``source`` to ``target`` labelled with ``label`` (a shape)."""

    source: str
    target: str
    label: str = ""
    keys: tuple[str, ...] = ()
    tooltip: str = ""


@dataclass
class _Slot:
    """One thing in one layer: a real node, a label node or a dummy bend point."""

    id: str
    width: float
    height: float
    rank: int
    item: Item | None = None
    up: list[int] = field(default_factory=list)
    down: list[int] = field(default_factory=list)
    x: float = 0.0


def layout_graph(nodes: Sequence[GraphNode], edges: Sequence[GraphEdge]) -> Drawing:
    """Place ``nodes`` in layers top to bottom and route ``edges`` between them."""
    index = {node.id: i for i, node in enumerate(nodes)}
    if len(index) != len(nodes):
        raise ShapecalcError("graph node ids must be unique", option="graph")
    for edge in edges:
        for end in (edge.source, edge.target):
            if end not in index:
                raise ShapecalcError(f"edge refers to unknown node {end!r}", option="graph")
        if edge.source == edge.target:
            raise ShapecalcError(f"edge from {edge.source!r} to itself", option="graph")
    ranks = _ranks(len(nodes), [(index[e.source], index[e.target]) for e in edges])
    slots = [_node_slot(node, 2 * ranks[i]) for i, node in enumerate(nodes)]
    chains = [_chain(slots, index[e.source], index[e.target], e, n) for n, e in enumerate(edges)]
    layers = _order(slots)
    _place(slots, layers)
    tops, bottoms = _rank_bands(slots, layers)
    ports = _ports(slots)
    shift = MARGIN - min((s.x - s.width / 2 for s in slots), default=0.0)
    width = max((s.x + s.width / 2 for s in slots), default=0.0) + shift + MARGIN
    items = [_placed(s, shift, tops, bottoms) for s in slots if s.item is not None]
    paths = [
        _edge_path(slots, chain, edge, shift, tops, bottoms, ports)
        for chain, edge in zip(chains, edges, strict=True)
    ]
    height = (bottoms[-1] if bottoms else 0.0) + MARGIN
    return Drawing(round(width, 2), round(height, 2), tuple(items), tuple(paths))


def _ranks(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Longest-path layers; a back edge (a cycle) is ignored for layering."""
    succ: list[list[int]] = [[] for _ in range(count)]
    indegree = [0] * count
    for u, v in _acyclic(count, edges):
        succ[u].append(v)
        indegree[v] += 1
    rank = [0] * count
    queue = [i for i in range(count) if indegree[i] == 0]
    for u in queue:  # Kahn's algorithm; the list grows as nodes become free
        for v in succ[u]:
            rank[v] = max(rank[v], rank[u] + 1)
            indegree[v] -= 1
            if indegree[v] == 0:
                queue.append(v)
    has_pred = {v for u in range(count) for v in succ[u]}
    for u in range(count):
        if u not in has_pred and succ[u]:
            rank[u] = min(rank[v] for v in succ[u]) - 1
    return rank


def _acyclic(count: int, edges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``edges`` without the back edges a depth-first search finds (and no self loops)."""
    succ: list[list[int]] = [[] for _ in range(count)]
    for u, v in edges:
        succ[u].append(v)
    state = [0] * count  # 0 new, 1 on the stack, 2 done
    back: set[tuple[int, int]] = set()
    for root in range(count):
        if state[root]:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            u, children = stack[-1]
            for v in children:
                if state[v] == 1:
                    back.add((u, v))
                elif state[v] == 0:
                    state[v] = 1
                    stack.append((v, iter(succ[v])))
                    break
            else:
                state[u] = 2
                stack.pop()
    return [(u, v) for u, v in edges if (u, v) not in back and u != v]


def _node_slot(node: GraphNode, rank: int) -> _Slot:
    width, height = item_size("layer", node.lines, FONT_SIZE)
    item = Item(node.id, "layer", Rect(0, 0, width, height), node.lines, node.keys, node.tooltip, node.style)
    return _Slot(node.id, width, height, rank, item)


def _chain(slots: list[_Slot], source: int, target: int, edge: GraphEdge, number: int) -> list[int]:
    """Slot indices an edge passes: source, its label node, dummies, target."""
    start, end = slots[source].rank, slots[target].rank
    step = 1 if end > start else -1
    path = [source]
    for rank in range(start + step, end, step):
        name = f"edge{number}-{rank}"
        if rank == start + step and edge.label:
            lines = shape_lines(edge.label)
            width, height = item_size("label", lines, LABEL_SIZE)
            tooltip = edge.tooltip or edge.label
            item = Item(name, "label", Rect(0, 0, width, height), lines, edge.keys, tooltip, size=LABEL_SIZE)
            slots.append(_Slot(name, width, height, rank, item))
        else:
            slots.append(_Slot(name, DUMMY_WIDTH, 0.0, rank))
        path.append(len(slots) - 1)
    path.append(target)
    for upper, lower in pairwise(path):
        if slots[upper].rank > slots[lower].rank:
            upper, lower = lower, upper
        slots[upper].down.append(lower)
        slots[lower].up.append(upper)
    return path


def _order(slots: list[_Slot]) -> list[list[int]]:
    """Slots per layer, ordered by barycenter sweeps (the fewest crossings found wins)."""
    low = min((s.rank for s in slots), default=0)
    for slot in slots:
        slot.rank -= low
    layers: list[list[int]] = [[] for _ in range(max((s.rank for s in slots), default=-1) + 1)]
    for i in _depth_first(slots):
        layers[slots[i].rank].append(i)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(slots, layers)
    for sweep in range(ORDER_SWEEPS):
        downward = sweep % 2 == 0
        sequence = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for k in sequence:
            neighbours = layers[k - 1 if downward else k + 1]
            layers[k] = _by_barycenter(slots, layers[k], neighbours, downward)
        crossings = _crossings(slots, layers)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    return best


def _by_barycenter(slots: list[_Slot], layer: list[int], neighbours: list[int], downward: bool) -> list[int]:
    """``layer`` sorted by the mean position of each slot's neighbours in the adjacent layer."""
    position = {i: p for p, i in enumerate(neighbours)}
    keys = {}
    for p, i in enumerate(layer):
        near = slots[i].up if downward else slots[i].down
        keys[i] = sum(position[j] for j in near) / len(near) if near else float(p)
    return sorted(layer, key=keys.__getitem__)


def _depth_first(slots: list[_Slot]) -> list[int]:
    """Slots in depth-first order from the top, so a plain stack keeps its given order."""
    seen: set[int] = set()
    out: list[int] = []
    for root in sorted(range(len(slots)), key=lambda i: (bool(slots[i].up), slots[i].rank)):
        stack = [root]
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            out.append(i)
            stack.extend(reversed(slots[i].down))
    return out


def _crossings(slots: list[_Slot], layers: list[list[int]]) -> int:
    total = 0
    for upper, lower in pairwise(layers):
        position = {i: p for p, i in enumerate(lower)}
        ends = sorted((p, position[j]) for p, i in enumerate(upper) for j in slots[i].down if j in position)
        total += _inversions([b for _, b in ends])
    return total


def _inversions(values: list[int]) -> int:
    """Pairs out of order (merge sort), i.e. edge crossings between two layers."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = sorted(values[:middle]), sorted(values[middle:])
    count = _inversions(values[:middle]) + _inversions(values[middle:])
    j = 0
    for value in left:
        while j < len(right) and right[j] < value:
            j += 1
        count += j
    return count


def _place(slots: list[_Slot], layers: list[list[int]]) -> None:
    """x centres: packed first, then pulled towards neighbours without reordering."""
    for layer in layers:
        x = 0.0
        for i in layer:
            slots[i].x = x + slots[i].width / 2
            x += slots[i].width + NODE_GAP
        for i in layer:
            slots[i].x -= x / 2
    for sweep in range(PLACE_SWEEPS):
        downward = sweep % 2 == 0
        sequence = layers[1:] if downward else layers[-2::-1]
        for layer in sequence:
            desired = []
            for i in layer:
                near = slots[i].up if downward else slots[i].down
                desired.append(sum(slots[j].x for j in near) / len(near) if near else slots[i].x)
            for i, x in zip(layer, _fit_in_order([slots[i].width for i in layer], desired), strict=True):
                slots[i].x = x


def _fit_in_order(widths: list[float], desired: list[float]) -> list[float]:
    """Positions closest (least squares) to ``desired`` that keep order and spacing.

    >>> _fit_in_order([10, 10], [0, 0])
    [-17.0, 17.0]
    """
    offsets = [0.0]
    for left, right in pairwise(widths):
        offsets.append(offsets[-1] + (left + right) / 2 + NODE_GAP)
    targets = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, count]
    for target in targets:
        blocks.append([target, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            previous = blocks[-1]
            previous[0] = (previous[0] * previous[1] + mean * count) / (previous[1] + count)
            previous[1] += count
    fitted = [mean for mean, count in blocks for _ in range(int(count))]
    return [f + o for f, o in zip(fitted, offsets, strict=True)]


def _rank_bands(slots: list[_Slot], layers: list[list[int]]) -> tuple[list[float], list[float]]:
    """Top and bottom of every layer; a gap grows with how far its edges slant."""
    tops, bottoms = [], []
    y = MARGIN
    for k, layer in enumerate(layers):
        height = max((slots[i].height for i in layer), default=0.0)
        tops.append(y)
        bottoms.append(y + height)
        slant = max((abs(slots[j].x - slots[i].x) for i in layer for j in slots[i].down), default=0.0)
        y += height + (min(RANK_GAP + 0.12 * slant, 3 * RANK_GAP) if k < len(layers) - 1 else 0.0)
    return tops, bottoms


def _placed(slot: _Slot, shift: float, tops: list[float], bottoms: list[float]) -> Item:
    assert slot.item is not None
    cy = (tops[slot.rank] + bottoms[slot.rank]) / 2
    rect = Rect(
        round(slot.x + shift - slot.width / 2, 2), round(cy - slot.height / 2, 2), slot.width, slot.height
    )
    return Item(
        slot.item.id,
        slot.item.kind,
        rect,
        slot.item.lines,
        slot.item.keys,
        slot.item.tooltip,
        slot.item.style,
        slot.item.size,
    )


def _ports(slots: list[_Slot]) -> dict[tuple[int, int], float]:
    """Where each edge meets a box: spread along its top or bottom in neighbour order."""
    offsets: dict[tuple[int, int], float] = {}
    for i, slot in enumerate(slots):
        if slot.item is None or slot.item.kind == "label":
            continue
        for near in (slot.up, slot.down):
            ordered = sorted(near, key=lambda j: slots[j].x)
            spacing = min(PORT_SPACING, 0.8 * slot.width / max(len(ordered) - 1, 1))
            for n, j in enumerate(ordered):
                offsets[(i, j)] = (n - (len(ordered) - 1) / 2) * spacing
    return offsets


def _edge_path(
    slots: list[_Slot],
    chain: list[int],
    edge: GraphEdge,
    shift: float,
    tops: list[float],
    bottoms: list[float],
    ports: dict[tuple[int, int], float],
) -> Path:
    """Down through each slot of the chain; slanted only between layers."""
    upward = slots[chain[0]].rank > slots[chain[-1]].rank  # a back edge of a cycle
    if upward:
        chain = chain[::-1]
    points: list[Point] = []
    for position, i in enumerate(chain):
        slot = slots[i]
        first, last = position == 0, position == len(chain) - 1
        if first or last:
            x = round(slot.x + shift + ports.get((i, chain[1] if first else chain[-2]), 0.0), 2)
        else:
            x = round(slot.x + shift, 2)
        middle = (tops[slot.rank] + bottoms[slot.rank]) / 2
        if not first:
            points.append((x, round(middle - slot.height / 2 if last else tops[slot.rank], 2)))
        if not last:
            if first:
                points.append((x, round(middle + slot.height / 2, 2)))
            points.append((x, round(bottoms[slot.rank], 2)))
    if upward:
        points.reverse()
    deduplicated = [p for n, p in enumerate(points) if n == 0 or p != points[n - 1]]
    owns = tuple(slots[i].id for i in chain if slots[i].item is not None)
    return Path(tuple(deduplicated), owns, edge.keys, edge.tooltip, curved=True)
