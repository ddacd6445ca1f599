"""Keras Bidirectional(GRU) to PyTorch nn.GRU, as shapecalc port says.

From: units=8, input_dim=4, bidirectional=True
To: hidden_size=8, input_size=4, bidirectional=True, batch_first=True
"""

import numpy

SOURCE_SHAPES = {
    "forward/kernel": (4, 24),
    "forward/recurrent_kernel": (8, 24),
    "forward/bias": (2, 24),
    "backward/kernel": (4, 24),
    "backward/recurrent_kernel": (8, 24),
    "backward/bias": (2, 24),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The PyTorch tensors, by name, from the Keras ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["forward/kernel"].dtype
    out = {}
    out["weight_ih_l0"] = t = numpy.zeros((24, 4), dtype)
    t[0:8, :] = w["forward/kernel"][:, 8:16].T  # r
    t[8:16, :] = w["forward/kernel"][:, 0:8].T  # z
    t[16:24, :] = w["forward/kernel"][:, 16:24].T  # n <- h
    out["weight_hh_l0"] = t = numpy.zeros((24, 8), dtype)
    t[0:8, :] = w["forward/recurrent_kernel"][:, 8:16].T  # r
    t[8:16, :] = w["forward/recurrent_kernel"][:, 0:8].T  # z
    t[16:24, :] = w["forward/recurrent_kernel"][:, 16:24].T  # n <- h
    out["bias_ih_l0"] = t = numpy.zeros((24,), dtype)
    t[0:8] = w["forward/bias"][0, 8:16]  # r
    t[8:16] = w["forward/bias"][0, 0:8]  # z
    t[16:24] = w["forward/bias"][0, 16:24]  # n <- h
    out["bias_hh_l0"] = t = numpy.zeros((24,), dtype)
    t[0:8] = w["forward/bias"][1, 8:16]  # r
    t[8:16] = w["forward/bias"][1, 0:8]  # z
    t[16:24] = w["forward/bias"][1, 16:24]  # n <- h
    out["weight_ih_l0_reverse"] = t = numpy.zeros((24, 4), dtype)
    t[0:8, :] = w["backward/kernel"][:, 8:16].T  # r
    t[8:16, :] = w["backward/kernel"][:, 0:8].T  # z
    t[16:24, :] = w["backward/kernel"][:, 16:24].T  # n <- h
    out["weight_hh_l0_reverse"] = t = numpy.zeros((24, 8), dtype)
    t[0:8, :] = w["backward/recurrent_kernel"][:, 8:16].T  # r
    t[8:16, :] = w["backward/recurrent_kernel"][:, 0:8].T  # z
    t[16:24, :] = w["backward/recurrent_kernel"][:, 16:24].T  # n <- h
    out["bias_ih_l0_reverse"] = t = numpy.zeros((24,), dtype)
    t[0:8] = w["backward/bias"][0, 8:16]  # r
    t[8:16] = w["backward/bias"][0, 0:8]  # z
    t[16:24] = w["backward/bias"][0, 16:24]  # n <- h
    out["bias_hh_l0_reverse"] = t = numpy.zeros((24,), dtype)
    t[0:8] = w["backward/bias"][1, 8:16]  # r
    t[8:16] = w["backward/bias"][1, 0:8]  # z
    t[16:24] = w["backward/bias"][1, 16:24]  # n <- h
    return out
