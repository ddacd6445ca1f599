"""ONNX LSTM to PyTorch nn.LSTM, as shapecalc port says.

From: hidden_size=4, input_size=3, direction=bidirectional
To: hidden_size=4, input_size=3, bidirectional=True
"""

import numpy

SOURCE_SHAPES = {
    "W": (2, 16, 3),
    "R": (2, 16, 4),
    "B": (2, 32),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The PyTorch tensors, by name, from the ONNX ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["W"].dtype
    out = {}
    out["weight_ih_l0"] = t = numpy.zeros((16, 3), dtype)
    t[0:4, :] = w["W"][0, 0:4, :]  # i
    t[4:12, :] = w["W"][0, 8:16, :]  # fg <- fc
    t[12:16, :] = w["W"][0, 4:8, :]  # o
    out["weight_hh_l0"] = t = numpy.zeros((16, 4), dtype)
    t[0:4, :] = w["R"][0, 0:4, :]  # i
    t[4:12, :] = w["R"][0, 8:16, :]  # fg <- fc
    t[12:16, :] = w["R"][0, 4:8, :]  # o
    out["bias_ih_l0"] = t = numpy.zeros((16,), dtype)
    t[0:4] = w["B"][0, 0:4]  # i
    t[4:12] = w["B"][0, 8:16]  # fg <- fc
    t[12:16] = w["B"][0, 4:8]  # o
    out["bias_hh_l0"] = t = numpy.zeros((16,), dtype)
    t[0:4] = w["B"][0, 16:20]  # i
    t[4:12] = w["B"][0, 24:32]  # fg <- fc
    t[12:16] = w["B"][0, 20:24]  # o
    out["weight_ih_l0_reverse"] = t = numpy.zeros((16, 3), dtype)
    t[0:4, :] = w["W"][1, 0:4, :]  # i
    t[4:12, :] = w["W"][1, 8:16, :]  # fg <- fc
    t[12:16, :] = w["W"][1, 4:8, :]  # o
    out["weight_hh_l0_reverse"] = t = numpy.zeros((16, 4), dtype)
    t[0:4, :] = w["R"][1, 0:4, :]  # i
    t[4:12, :] = w["R"][1, 8:16, :]  # fg <- fc
    t[12:16, :] = w["R"][1, 4:8, :]  # o
    out["bias_ih_l0_reverse"] = t = numpy.zeros((16,), dtype)
    t[0:4] = w["B"][1, 0:4]  # i
    t[4:12] = w["B"][1, 8:16]  # fg <- fc
    t[12:16] = w["B"][1, 4:8]  # o
    out["bias_hh_l0_reverse"] = t = numpy.zeros((16,), dtype)
    t[0:4] = w["B"][1, 16:20]  # i
    t[4:12] = w["B"][1, 24:32]  # fg <- fc
    t[12:16] = w["B"][1, 20:24]  # o
    return out
