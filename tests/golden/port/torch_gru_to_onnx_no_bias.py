"""PyTorch nn.GRU to ONNX GRU, as shapecalc port says.

From: hidden_size=6, input_size=2, use_bias=False
To: hidden_size=6, input_size=2, use_bias=False, linear_before_reset=True
"""

import numpy

SOURCE_SHAPES = {
    "weight_ih_l0": (18, 2),
    "weight_hh_l0": (18, 6),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The ONNX tensors, by name, from the PyTorch ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["weight_ih_l0"].dtype
    out = {}
    out["W"] = t = numpy.zeros((1, 18, 2), dtype)
    t[0, 0:6, :] = w["weight_ih_l0"][6:12, :]  # z
    t[0, 6:12, :] = w["weight_ih_l0"][0:6, :]  # r
    t[0, 12:18, :] = w["weight_ih_l0"][12:18, :]  # h <- n
    out["R"] = t = numpy.zeros((1, 18, 6), dtype)
    t[0, 0:6, :] = w["weight_hh_l0"][6:12, :]  # z
    t[0, 6:12, :] = w["weight_hh_l0"][0:6, :]  # r
    t[0, 12:18, :] = w["weight_hh_l0"][12:18, :]  # h <- n
    return out
