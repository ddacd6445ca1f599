"""``--to onnx``: an ONNX model with one ``LSTM``/``GRU``/``RNN`` node per layer (and per level of a
stacked PyTorch module), layout 0, the weights as initializers.

Each layer reads ``X`` (``[seq_length, batch_size, input_size]``; ``<name>.X`` when the file
holds several layers) and gives ``Y``, ``Y_h`` (and ``Y_c``), the node's own outputs. A stacked
module's levels are chained the way PyTorch chains them (``Y`` transposed to
``[seq, batch, directions, hidden]`` and reshaped to ``[seq, batch, directions * hidden]``), and
its ``Y_h``/``Y_c`` are every level's, concatenated: PyTorch's ``h_n``/``c_n``.

>>> [names["Y_h"] for names in [output_names(PortedLayer("enc", "gru", 3, 4, arrays={}), several=True)]]
['enc.Y_h']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.portfile.layers import PortedLayer

OPS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
#: The opset written (``layout`` exists since 14) and the IR version that goes with it.
OPSET, IR_VERSION = 17, 8


def output_names(layer: PortedLayer, *, several: bool) -> dict[str, str]:
    """The graph's names for the layer's input and outputs."""
    prefix = f"{layer.name}." if several else ""
    names = ("X", "Y", "Y_h", "Y_c") if layer.cell == "lstm" else ("X", "Y", "Y_h")
    return {name: prefix + name for name in names}


def onnx_bytes(layers: Sequence[PortedLayer]) -> bytes:
    """The serialized model."""
    try:
        import numpy
        import onnx  # only when an .onnx file is written: an optional extra
        import onnx.numpy_helper
    except ImportError as error:
        extra = "onnx" if error.name and error.name.startswith("onnx") else "port"
        raise ShapecalcError(f"writing .onnx needs {error.name}: pip install 'shapecalc[{extra}]'") from None
    helper, float32 = onnx.helper, onnx.TensorProto.FLOAT
    nodes: list[Any] = []
    initializers: list[Any] = []
    inputs: list[Any] = []
    outputs: list[Any] = []
    several = len(layers) > 1
    for layer in layers:
        names = output_names(layer, several=several)
        prefix = f"{layer.name}." if several else ""
        inputs.append(
            helper.make_tensor_value_info(names["X"], float32, ["seq_length", "batch_size", layer.input_size])
        )
        states: dict[str, list[str]] = {"Y_h": [], "Y_c": []}
        current = names["X"]
        for k in range(layer.num_layers):
            level = f"{prefix}l{k}." if layer.num_layers > 1 else prefix
            weights = ["W", "R", "B"] if layer.use_bias else ["W", "R"]
            for weight in weights:
                source = f"l{k}/{weight}" if layer.num_layers > 1 else weight
                array = layer.arrays[source]
                initializers.append(onnx.numpy_helper.from_array(array.astype("float32"), f"{level}{weight}"))
            node_outputs = [f"{level}Y", f"{level}Y_h"] + ([f"{level}Y_c"] if layer.cell == "lstm" else [])
            attributes: dict[str, Any] = {
                "hidden_size": layer.hidden_size,
                "direction": "bidirectional" if layer.bidirectional else "forward",
                "layout": 0,
            }
            if layer.cell == "gru":
                attributes["linear_before_reset"] = int(layer.reset_after)
            if layer.cell == "rnn" and layer.activation != "tanh":  # ONNX's default is Tanh
                attributes["activations"] = [layer.activation.capitalize()] * layer.directions
            node_inputs = [current, *(f"{level}{weight}" for weight in weights)]
            nodes.append(
                helper.make_node(
                    OPS[layer.cell],
                    node_inputs,
                    node_outputs,
                    name=f"{level}{OPS[layer.cell]}".lstrip("."),
                    **attributes,
                )
            )
            states["Y_h"].append(f"{level}Y_h")
            if layer.cell == "lstm":
                states["Y_c"].append(f"{level}Y_c")
            if k + 1 < layer.num_layers:  # [seq, dirs, batch, hidden] -> [seq, batch, dirs * hidden]
                shape = f"{level}next_shape"
                initializers.append(
                    onnx.numpy_helper.from_array(numpy.array([0, 0, -1], dtype="int64"), shape)
                )
                nodes.append(helper.make_node("Transpose", [f"{level}Y"], [f"{level}Y_t"], perm=[0, 2, 1, 3]))
                nodes.append(helper.make_node("Reshape", [f"{level}Y_t", shape], [f"{level}Y_seq"]))
                current = f"{level}Y_seq"
        last = f"{prefix}l{layer.num_layers - 1}." if layer.num_layers > 1 else prefix
        if layer.num_layers > 1:
            nodes.append(helper.make_node("Identity", [f"{last}Y"], [names["Y"]]))
            for state, parts in states.items():
                if parts:
                    nodes.append(helper.make_node("Concat", parts, [names[state]], axis=0))
        directions = layer.directions
        outputs.append(
            helper.make_tensor_value_info(
                names["Y"], float32, ["seq_length", directions, "batch_size", layer.hidden_size]
            )
        )
        for state in ("Y_h", "Y_c") if layer.cell == "lstm" else ("Y_h",):
            outputs.append(
                helper.make_tensor_value_info(
                    names[state], float32, [directions * layer.num_layers, "batch_size", layer.hidden_size]
                )
            )
    graph = helper.make_graph(nodes, "ported", inputs, outputs, initializers)
    model = helper.make_model(
        graph, producer_name="shapecalc", opset_imports=[helper.make_opsetid("", OPSET)]
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data
