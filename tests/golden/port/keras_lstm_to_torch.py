"""Keras LSTM to PyTorch nn.LSTM, as shapecalc port says.

From: units=32, input_dim=20
To: hidden_size=32, input_size=20, batch_first=True
"""

import numpy

SOURCE_SHAPES = {
    "kernel": (20, 128),
    "recurrent_kernel": (32, 128),
    "bias": (128,),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The PyTorch tensors, by name, from the Keras ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["kernel"].dtype
    out = {}
    out["weight_ih_l0"] = t = numpy.zeros((128, 20), dtype)
    t[0:128, :] = w["kernel"][:, 0:128].T  # ifgo <- ifco
    out["weight_hh_l0"] = t = numpy.zeros((128, 32), dtype)
    t[0:128, :] = w["recurrent_kernel"][:, 0:128].T  # ifgo <- ifco
    out["bias_ih_l0"] = t = numpy.zeros((128,), dtype)
    t[0:128] = w["bias"][0:128]  # ifgo <- ifco
    out["bias_hh_l0"] = t = numpy.zeros((128,), dtype)
    return out
