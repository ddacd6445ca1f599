"""Shapes through a whole model: each layer's rule on the shapes its inputs produced.

Layers run in dependency order; an error names the file, the layer's index
and name, the field and the value. With ``skip_unknown`` a layer whose class (or a class it
holds) has no rule becomes a row marked unknown, and so does everything fed by it; the result
names every such class (:mod:`.unknown`), and so does the error without ``skip_unknown``.

>>> from shapecalc.model.graph import Call, LayerNode, LayerSpec, ModelGraph, TensorRef
>>> from shapecalc.dims import sym
>>> graph = ModelGraph("m", "m.yaml", "shapecalc", (
...     LayerNode(1, "x", LayerSpec("InputLayer"), input_shape=(sym("batch"), 10, 20)),
...     LayerNode(2, "lstm", LayerSpec("LSTM", {"units": 32}), (Call((TensorRef("x"),)),)),
... ), (TensorRef("x"),), (TensorRef("lstm"),))
>>> result = propagate(graph)
>>> result.outputs, result.params
(((Expr('batch'), 32),), 6784)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from shapecalc.dims import MAX_INT, Dim, format_shape, largest_number, substitute
from shapecalc.errors import ShapecalcError, shown
from shapecalc.geometry import check_positive
from shapecalc.model.bindings import resolve_bindings
from shapecalc.model.graph import LayerNode, LayerSpec, ModelGraph, Shape, TensorRef
from shapecalc.model.layers import recurrent, registry
from shapecalc.model.layers.base import LayerCall, LayerOutput, LocatedError, UnknownLayerError, same_size
from shapecalc.model.limits import layer_place, shown_ref
from shapecalc.model.result import OK, UNKNOWN_CLASS, UNKNOWN_INPUT, LayerRow, ModelResult
from shapecalc.model.unknown import listing_text, unknown_classes


def propagate(
    graph: ModelGraph,
    *,
    skip_unknown: bool = False,
    dtype: str = "float32",
    bindings: Mapping[str, Dim] | None = None,
    input_shapes: tuple[Shape, ...] | None = None,
) -> ModelResult:
    """Every layer's output shapes and counts, and the totals.

    ``bindings`` gives symbols values (``{"batch": 32}``) in the input shapes; a name they do not
    use is refused (:mod:`.bindings`). ``input_shapes`` replaces the inputs' shapes (a model used
    as a layer).
    """
    if bindings:
        declared = (node.input_shape for node in graph.layers if node.input_shape is not None)
        bindings = resolve_bindings(bindings, declared)
    _check_ends(graph)
    produced: dict[TensorRef, Shape] = {}
    unknown: set[tuple[str, int]] = set()
    runs: dict[str, _Runs] = {}  # by layer, in the order of their first calls
    given_inputs = dict(zip((ref.layer for ref in graph.inputs), input_shapes or (), strict=False))
    found = unknown_classes(graph)
    unknown_layers = {name: entry.class_name for entry in reversed(found) for name in entry.layers}
    for node, number in _in_order(graph):
        try:
            if node.name in unknown_layers:
                if not skip_unknown:
                    raise UnknownLayerError(unknown_layers[node.name], listing_text(found))
                unknown.add((node.name, number))
                runs.setdefault(node.name, _Runs(node)).status = UNKNOWN_CLASS
                continue
            _run_call(node, number, produced, unknown, runs, skip_unknown, bindings, given_inputs)
        except LocatedError:
            raise
        except ShapecalcError as error:
            raise located(error, graph, node) from None
    rows = []
    for node, run in ((run.node, run) for run in runs.values()):
        try:
            rows.append(_row(graph, run))
        except ShapecalcError as error:
            raise located(error, graph, node) from None
    return replace(_totals(graph, rows, produced, dtype), unknown_classes=found)


def _connected(node: LayerNode) -> tuple[TensorRef, ...]:
    return tuple(ref for call in node.calls for ref in (*call.inputs, *call.initial_state))


def bounded(output: LayerOutput) -> LayerOutput:
    """``output``, unless a size or parameter count passes int64, as the recurrent layers refuse
    (MACs are counts and may pass it).

    >>> bounded(LayerOutput(((4, 2**63 - 1),))).shapes
    ((4, 9223372036854775807),)

    >>> try:
    ...     bounded(LayerOutput(((4, 2**64),)))
    ... except ShapecalcError as error:
    ...     print(error)
    output shape: 18446744073709551616 is too large (sizes stop at 9223372036854775807)
    """
    sizes = [("output shape", size) for shape in output.shapes for size in shape]
    sizes += [("params", output.params), ("non-trainable params", output.non_trainable)]
    for what, size in sizes:
        if largest_number(size) > MAX_INT:
            text = shown(size) if isinstance(size, int) else shown(str(size))
            raise ShapecalcError(f"{what}: {text} is too large (sizes stop at {MAX_INT})")
    return output


def _check_ends(graph: ModelGraph) -> None:
    """Refuse model inputs that are not input layers, and outputs that name no layer."""
    by_name = {node.name: node for node in graph.layers}
    for ref in graph.inputs:
        node = by_name.get(ref.layer)
        if node is None or node.input_shape is None or (ref.node, ref.index) != (0, 0):
            raise ShapecalcError(
                f"{graph.source}: the model's input {shown_ref(ref)} is not an input layer of it"
            )
    for ref in graph.outputs:
        if ref.layer not in by_name:
            raise ShapecalcError(f"{graph.source}: the model's output {shown_ref(ref)} names no layer of it")


def clear_caches() -> None:
    """Forget memoised layer results (benchmarks measure cold runs)."""
    registry._apply.cache_clear()
    recurrent._derive.cache_clear()


def located(error: ShapecalcError, graph: ModelGraph, node: LayerNode) -> LocatedError:
    """``error`` prefixed with the file, the layer's index and name: ``m.yaml: layer 3 'lstm_2': ...``."""
    if node.input_shape is not None:
        where = f"{graph.source}: input {shown(node.name)}"
    else:
        where = layer_place(graph.source, node.position, node.name)
    return LocatedError(error.message, error.option, code=error.code, where=where)


def run_spec(spec: LayerSpec, call: LayerCall) -> LayerOutput:
    """Any layer on ``call``: a nested model through :func:`propagate`, the others through their
    rule. Wrappers receive this function to run the layer they hold."""
    if isinstance(spec.inner, ModelGraph):
        return run_nested(spec.inner, call.inputs)
    return registry.run_layer(spec, call, run_spec)


def run_nested(graph: ModelGraph, inputs: tuple[Shape, ...]) -> LayerOutput:
    """A whole model used as a layer: its outputs and totals for the shapes it is given."""
    if len(inputs) != len(graph.inputs):
        raise ShapecalcError(f"takes {len(graph.inputs)} input(s), got {len(inputs)}")
    result = propagate(graph, input_shapes=inputs)
    if result.unknown or any(shape is None for shape in result.outputs):
        raise ShapecalcError("holds layers whose shapes are unknown")
    shapes = tuple(shape for shape in result.outputs if shape is not None)
    return LayerOutput(
        shapes,
        result.params,
        result.non_trainable,
        result.macs,
        class_name=graph.class_name,
        flops=result.flops,
        activations=result.activations,
    )


def _flops(output: LayerOutput) -> Dim | None:
    """The rule's own FLOPs count, else two per MAC (a multiply and an add; ``None``: not counted)."""
    if output.flops is not None:
        return output.flops
    return None if output.macs is None else 2 * output.macs


def _numbers(node: LayerNode) -> range:
    """The numbers of ``node``'s calls (an input layer, or a layer never called, has one step)."""
    return range(max(1, len(node.calls)))


def _call_refs(node: LayerNode, number: int) -> tuple[TensorRef, ...]:
    if number >= len(node.calls):
        return ()
    call = node.calls[number]
    return (*call.inputs, *call.initial_state)


def _in_order(graph: ModelGraph) -> list[tuple[LayerNode, int]]:
    """Every call of every layer, each after the calls whose outputs it reads (file order where
    free). A layer called twice (shared, or a tied embedding run in reverse) may read its own
    first call: that is sharing, not a cycle."""
    by_name = {node.name: node for node in graph.layers}
    if len(by_name) != len(graph.layers):
        seen: set[str] = set()
        for node in graph.layers:
            if node.name in seen:
                raise ShapecalcError(
                    f"{graph.source}: layer {node.position}: the name {shown(node.name)} is taken"
                )
            seen.add(node.name)
    done: set[str] = set()
    for node in graph.layers:
        if any(ref.layer not in done for call in node.calls for ref in (*call.inputs, *call.initial_state)):
            break
        done.add(node.name)
    else:  # the usual case: every layer reads only layers above it
        return [(node, number) for node in graph.layers for number in _numbers(node)]
    finished: set[tuple[str, int]] = set()
    order: list[tuple[LayerNode, int]] = []
    for first in graph.layers:
        for first_number in _numbers(first):
            stack = [(first, first_number, False)]
            visiting: set[tuple[str, int]] = set()
            while stack:
                node, number, expanded = stack.pop()
                step = (node.name, number)
                if step in finished:
                    continue
                if expanded:
                    finished.add(step)
                    visiting.discard(step)
                    order.append((node, number))
                    continue
                if step in visiting:
                    raise located(ShapecalcError("is part of a cycle"), graph, node)
                visiting.add(step)
                stack.append((node, number, True))
                for ref in _call_refs(node, number):
                    source = by_name.get(ref.layer)
                    if source is None:
                        raise located(
                            ShapecalcError(
                                f"reads {shown_ref(ref)}, but no layer is called {shown(ref.layer)}"
                            ),
                            graph,
                            node,
                        )
                    # A call that does not exist is refused when it is read (``_read``).
                    if ref.node in _numbers(source) and (source.name, ref.node) not in finished:
                        stack.append((source, ref.node, False))
    return order


@dataclass
class _Runs:
    """What the calls of one layer gave so far (its row is made once all have run)."""

    node: LayerNode
    outputs: list[LayerOutput] = field(default_factory=list)
    status: str = OK
    input_shape: Shape | None = None


def _run_call(
    node: LayerNode,
    number: int,
    produced: dict[TensorRef, Shape],
    unknown: set[tuple[str, int]],
    runs: dict[str, _Runs],
    skip_unknown: bool,
    bindings: Mapping[str, Dim] | None,
    given_inputs: Mapping[str, Shape],
) -> None:
    run = runs.setdefault(node.name, _Runs(node))
    if node.input_shape is not None:
        run.input_shape = _input_shape(node, bindings, given_inputs.get(node.name))
        produced[TensorRef(node.name)] = run.input_shape
        return
    if not node.calls:
        raise ShapecalcError("is never called: it has no inputs")
    call = node.calls[number]
    if any((ref.layer, ref.node) in unknown for ref in (*call.inputs, *call.initial_state)):
        unknown.add((node.name, number))
        run.status = UNKNOWN_CLASS if run.status == UNKNOWN_CLASS else UNKNOWN_INPUT
        return
    shapes = LayerCall(
        tuple(_read(produced, ref) for ref in call.inputs),
        tuple(_read(produced, ref) for ref in call.initial_state),
    )
    spec = node.spec
    if call.options:
        spec = replace(spec, options={**spec.options, **dict(call.options)})
    try:
        output = bounded(run_spec(spec, shapes))
    except UnknownLayerError:
        if not skip_unknown:
            raise
        unknown.add((node.name, number))
        run.status = UNKNOWN_CLASS
        return
    for index, shape in enumerate(output.shapes):
        produced[TensorRef(node.name, number, index)] = shape
    run.outputs.append(output)


def _row(graph: ModelGraph, run: _Runs) -> LayerRow:
    """A layer's row: its first call's shapes and its weights (counted once), the work of all its
    calls."""
    node = run.node
    if run.input_shape is not None:
        return LayerRow(node.position, node.name, "InputLayer", (run.input_shape,))
    connected = _connected(node)
    if run.status != OK:
        return _unknown_row(node, connected, run.status)
    first = run.outputs[0]
    macs = [output.macs for output in run.outputs]  # a shared layer computes once per call
    flops = [_flops(output) for output in run.outputs]
    if graph.sequential and len(first.shapes) > 1 and node is not graph.layers[-1]:
        raise ShapecalcError(
            f"returns {len(first.shapes)} tensors, but a sequential stack passes on one; "
            "connect them with a Functional model (or 'inputs:' in a shapecalc model file)"
        )
    return LayerRow(
        node.position,
        node.name,
        first.class_name or node.spec.class_name,
        first.shapes,
        first.params,
        first.non_trainable,
        None if None in macs else dim_sum([m for m in macs if m is not None]),
        connected,
        first.detail,
        OK,
        first.constraints,
        ignored_options(node.spec),
        None if None in flops else dim_sum([f for f in flops if f is not None]),
        (
            dim_sum([output.activations[0] for output in run.outputs]),
            dim_sum([output.activations[1] for output in run.outputs]),
        ),
    )


def ignored_options(spec: LayerSpec) -> tuple[str, ...]:
    """The inert options ``spec`` was given; those of the layer it wraps as ``layer.NAME`` (an RNN's
    cell's as ``cell.NAME``, a backward layer's as ``backward_layer.NAME``, a stack's cells' as
    ``cells[0].NAME``).

    >>> ignored_options(LayerSpec("TimeDistributed", {}, LayerSpec("Dense", ignored=("activation",))))
    ('layer.activation',)
    """
    held: list[tuple[str, LayerSpec]] = []
    if isinstance(spec.inner, LayerSpec):
        held.append((registry.HELD_KEYS.get(spec.class_name, "layer"), spec.inner))
    for key, value in spec.options.items():
        if isinstance(value, LayerSpec):
            held.append((key, value))
        elif isinstance(value, tuple):
            held += [(f"{key}[{n}]", item) for n, item in enumerate(value) if isinstance(item, LayerSpec)]
    return (*spec.ignored, *(f"{key}.{name}" for key, inner in held for name in ignored_options(inner)))


def _unknown_row(node: LayerNode, connected: tuple[TensorRef, ...], status: str) -> LayerRow:
    """A row whose shapes and counts are unknown: its class has no rule, or it reads such a layer."""
    return LayerRow(
        node.position,
        node.name,
        node.spec.class_name,
        None,
        None,
        macs=None,
        connected_to=connected,
        status=status,
        ignored_options=ignored_options(node.spec),
    )


def _input_shape(node: LayerNode, bindings: Mapping[str, Dim] | None, given: Shape | None) -> Shape:
    assert node.input_shape is not None
    shape = node.input_shape
    if given is not None:
        if len(given) != len(shape):
            raise ShapecalcError(
                f"expects a {len(shape)}-D input {format_shape(shape)}, got {format_shape(given)}"
            )
        for declared, actual in zip(shape, given, strict=True):
            same_size(declared, actual, f"expects {format_shape(shape)}, got {format_shape(given)}")
        shape = given
    if bindings:
        shape = tuple(substitute(size, bindings) for size in shape)
        for size in shape:
            check_positive(size, "size")
    return shape


def _read(produced: Mapping[TensorRef, Shape], ref: TensorRef) -> Shape:
    try:
        return produced[ref]
    except KeyError:
        raise ShapecalcError(
            f"reads {shown_ref(ref)}, which layer {shown(ref.layer)} does not produce"
        ) from None


def _output(
    graph: ModelGraph, ref: TensorRef, produced: Mapping[TensorRef, Shape], row: LayerRow
) -> Shape | None:
    """The shape of the model's output ``ref`` (``None`` when its layer's shapes are unknown)."""
    if row.status != OK:
        return None
    if ref not in produced:
        count = len(row.shapes or ())
        raise ShapecalcError(
            f"{graph.source}: the model's output {shown_ref(ref)} does not exist: "
            f"layer {shown(ref.layer)} gives {count} output(s) per call"
        )
    return produced[ref]


def dim_sum(values: list[Dim]) -> Dim:
    """The sum of ``values``, added pairwise: a sum of n distinct terms costs n log n, not n².

    >>> dim_sum([1, 2, 3, 4, 5])
    15
    """
    if not values:
        return 0
    while len(values) > 1:
        pairs = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        values = pairs + values[len(pairs) * 2 :]
    return values[0]


def _totals(
    graph: ModelGraph, rows: list[LayerRow], produced: Mapping[TensorRef, Shape], dtype: str
) -> ModelResult:
    known = [row for row in rows if row.status == OK]
    params = dim_sum([row.params for row in known if row.params is not None])
    non_trainable = dim_sum([row.non_trainable for row in known])
    counted = [row.macs for row in known if row.macs is not None]
    macs = dim_sum(counted) if len(counted) == len(rows) else None
    flops_counted = [row.flops for row in known if row.flops is not None]
    flops = dim_sum(flops_counted) if len(flops_counted) == len(rows) else None
    activations = (
        dim_sum([row.activations[0] for row in known]),
        dim_sum([row.activations[1] for row in known]),
    )
    constraints: dict[str, None] = {}
    for row in known:
        constraints.update(dict.fromkeys(row.constraints))
    by_name = {row.name: row for row in rows}
    return ModelResult(
        name=graph.name,
        source=graph.source,
        format=graph.format,
        sequential=graph.sequential,
        rows=tuple(rows),
        inputs=tuple(produced[ref] for ref in graph.inputs),
        outputs=tuple(_output(graph, ref, produced, by_name[ref.layer]) for ref in graph.outputs),
        params=params,
        non_trainable=non_trainable,
        macs=macs,
        dtype=dtype,
        constraints=tuple(constraints),
        flops=flops,
        activations=activations,
    )
