"""Keras GRU to ONNX GRU, as shapecalc port says.

From: units=8, input_dim=4, reset_after=False
To: hidden_size=8, input_size=4, layout=1
"""

import numpy

SOURCE_SHAPES = {
    "kernel": (4, 24),
    "recurrent_kernel": (8, 24),
    "bias": (24,),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The ONNX tensors, by name, from the Keras ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["kernel"].dtype
    out = {}
    out["W"] = t = numpy.zeros((1, 24, 4), dtype)
    t[0, 0:24, :] = w["kernel"][:, 0:24].T  # zrh
    out["R"] = t = numpy.zeros((1, 24, 8), dtype)
    t[0, 0:24, :] = w["recurrent_kernel"][:, 0:24].T  # zrh
    out["B"] = t = numpy.zeros((1, 48), dtype)
    t[0, 0:24] = w["bias"][0:24]  # zrh
    return out
