"""PyTorch nn.RNN to ONNX RNN, as shapecalc port says.

From: hidden_size=8, input_size=4, bidirectional=True, nonlinearity=relu
To: hidden_size=8, input_size=4, direction=bidirectional, nonlinearity=relu
"""

import numpy

SOURCE_SHAPES = {
    "weight_ih_l0": (8, 4),
    "weight_hh_l0": (8, 8),
    "bias_ih_l0": (8,),
    "bias_hh_l0": (8,),
    "weight_ih_l0_reverse": (8, 4),
    "weight_hh_l0_reverse": (8, 8),
    "bias_ih_l0_reverse": (8,),
    "bias_hh_l0_reverse": (8,),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The ONNX tensors, by name, from the PyTorch ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["weight_ih_l0"].dtype
    out = {}
    out["W"] = t = numpy.zeros((2, 8, 4), dtype)
    t[0, :, :] = w["weight_ih_l0"][:, :]
    t[1, :, :] = w["weight_ih_l0_reverse"][:, :]
    out["R"] = t = numpy.zeros((2, 8, 8), dtype)
    t[0, :, :] = w["weight_hh_l0"][:, :]
    t[1, :, :] = w["weight_hh_l0_reverse"][:, :]
    out["B"] = t = numpy.zeros((2, 16), dtype)
    t[0, 0:8] = w["bias_ih_l0"][:]
    t[0, 8:16] = w["bias_hh_l0"][:]
    t[1, 0:8] = w["bias_ih_l0_reverse"][:]
    t[1, 8:16] = w["bias_hh_l0_reverse"][:]
    return out
