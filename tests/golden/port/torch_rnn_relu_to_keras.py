"""PyTorch nn.RNN to Keras SimpleRNN, as shapecalc port says.

From: hidden_size=8, input_size=4, nonlinearity=relu
To: units=8, input_dim=4, return_sequences=True, return_state=True, activation=relu
"""

import numpy

SOURCE_SHAPES = {
    "weight_ih_l0": (8, 4),
    "weight_hh_l0": (8, 8),
    "bias_ih_l0": (8,),
    "bias_hh_l0": (8,),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The Keras tensors, by name, from the PyTorch ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["weight_ih_l0"].dtype
    out = {}
    out["kernel"] = t = numpy.zeros((4, 8), dtype)
    t[:, :] = w["weight_ih_l0"][:, :].T
    out["recurrent_kernel"] = t = numpy.zeros((8, 8), dtype)
    t[:, :] = w["weight_hh_l0"][:, :].T
    out["bias"] = t = numpy.zeros((8,), dtype)
    t[:] = w["bias_ih_l0"][:] + w["bias_hh_l0"][:]
    return out
