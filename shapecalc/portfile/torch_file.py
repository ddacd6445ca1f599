"""``--to torch``: a PyTorch ``state_dict`` as safetensors, and the modules that load it.

The keys are the module's own parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``),
prefixed with the layer's name and a dot when the file holds several layers, so that
``module.load_state_dict(safetensors.torch.load_file(OUT))`` loads each module (several:
``model.load_state_dict`` of a module holding them under those names).

>>> layer = PortedLayer("enc", "gru", 3, 4, arrays={}, num_layers=2, use_bias=False)
>>> constructor(layer)
'nn.GRU(input_size=3, hidden_size=4, num_layers=2, bias=False)'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapecalc.errors import ShapecalcError
from shapecalc.portfile.layers import PortedLayer

CLASSES = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn": "nn.RNN"}


def safetensors_module() -> Any:
    """safetensors' NumPy writer, or one line saying how to install it."""
    try:
        import safetensors.numpy  # only when a safetensors file is written: an optional extra
    except ImportError:
        raise ShapecalcError("writing safetensors needs safetensors: pip install 'shapecalc[port]'") from None
    return safetensors.numpy


def constructor(layer: PortedLayer, *, batch_first: bool = False) -> str:
    """The ``nn.LSTM(...)`` call whose parameters are the layer's (defaults left out)."""
    words = [f"input_size={layer.input_size}", f"hidden_size={layer.hidden_size}"]
    if layer.num_layers != 1:
        words.append(f"num_layers={layer.num_layers}")
    if layer.activation != "tanh":
        words.append(f"nonlinearity={layer.activation!r}")
    if not layer.use_bias:
        words.append("bias=False")
    if batch_first:
        words.append("batch_first=True")
    if layer.bidirectional:
        words.append("bidirectional=True")
    return f"{CLASSES[layer.cell]}({', '.join(words)})"


def keys(layers: Sequence[PortedLayer]) -> dict[str, tuple[PortedLayer, str]]:
    """Every key of the file -> its layer and parameter name."""
    several = len(layers) > 1
    return {
        (f"{layer.name}.{name}" if several else name): (layer, name)
        for layer in layers
        for name in layer.arrays
    }


def torch_bytes(layers: Sequence[PortedLayer]) -> bytes:
    """The safetensors file holding every layer's parameters."""
    writer = safetensors_module()
    from shapecalc.port.apply import numpy_module

    numpy = numpy_module()
    tensors = {
        key: numpy.ascontiguousarray(layer.arrays[name]) for key, (layer, name) in keys(layers).items()
    }
    data: bytes = writer.save(tensors, metadata={"format": "pt"})
    return data
