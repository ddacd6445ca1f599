"""ONNX models: the graph's initializers (name, shape, dtype) and its ``LSTM``/``GRU``/``RNN``
nodes with their attributes, read with the ``onnx`` package (the optional extra
``shapecalc[onnx]``), imported only here. External data is never loaded.
"""

from __future__ import annotations

from typing import IO, Any

from shapecalc.errors import ShapecalcError
from shapecalc.weights.tensors import FileContents, OnnxNode, StoredTensor, checked_shape

RECURRENT_OPS = ("LSTM", "GRU", "RNN")


def onnx_module() -> Any:
    """onnx, or one line saying how to install it."""
    try:
        import onnx  # only on the ONNX path: an optional extra
    except ImportError:
        raise ShapecalcError("reading ONNX needs onnx: pip install 'shapecalc[onnx]'") from None
    return onnx


def read_onnx(handle: IO[bytes]) -> FileContents:
    """The initializers and recurrent nodes of an ONNX model (``ValueError`` when damaged)."""
    onnx = onnx_module()
    try:
        model = onnx.load_model(handle, load_external_data=False)
    except Exception as error:  # protobuf raises DecodeError, RuntimeError, ValueError...
        raise ValueError(f"not a readable ONNX model ({type(error).__name__})") from None
    graph = model.graph
    if not graph.node and not graph.initializer:
        raise ValueError("not an ONNX model (no graph)")
    tensors = [_initializer(onnx, item) for item in graph.initializer]
    nodes = [
        OnnxNode(
            node.name or f"{node.op_type}_{index}",
            node.op_type,
            {attr.name: _attribute(onnx, attr) for attr in node.attribute},
            tuple(node.input),
        )
        for index, node in enumerate(graph.node)
        if node.op_type in RECURRENT_OPS and node.domain in ("", "ai.onnx")
    ]
    metadata = {
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "ir_version": model.ir_version,
    }
    opsets = [f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import]
    if opsets:
        metadata["opsets"] = ", ".join(opsets)
    return FileContents("onnx", tensors, metadata=metadata, onnx_nodes=nodes)


def _initializer(onnx: Any, item: Any) -> StoredTensor:
    try:
        dtype = str(onnx.helper.tensor_dtype_to_np_dtype(item.data_type))
    except (KeyError, ValueError, TypeError):
        dtype = onnx.TensorProto.DataType.Name(item.data_type).lower() if item.data_type else "undefined"
    return StoredTensor(item.name, checked_shape(list(item.dims), item.name), dtype, storage=(item.name,))


def _attribute(onnx: Any, attr: Any) -> Any:
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
    return value if isinstance(value, (int, float, str)) else str(type(value).__name__)
