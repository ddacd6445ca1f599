"""PyTorch nn.LSTM to Keras LSTM, as shapecalc port says.

From: hidden_size=4, input_size=3, num_layers=2
To layer0/: units=4, input_dim=3, return_sequences=True, return_state=True
To layer1/: units=4, input_dim=4, return_sequences=True, return_state=True
"""

import numpy

SOURCE_SHAPES = {
    "weight_ih_l0": (16, 3),
    "weight_hh_l0": (16, 4),
    "bias_ih_l0": (16,),
    "bias_hh_l0": (16,),
    "weight_ih_l1": (16, 4),
    "weight_hh_l1": (16, 4),
    "bias_ih_l1": (16,),
    "bias_hh_l1": (16,),
}


def convert(weights: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The Keras tensors, by name, from the PyTorch ones."""
    for name, shape in SOURCE_SHAPES.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape}, expected {shape}")
    w = weights
    dtype = w["weight_ih_l0"].dtype
    out = {}
    out["layer0/kernel"] = t = numpy.zeros((3, 16), dtype)
    t[:, 0:16] = w["weight_ih_l0"][0:16, :].T  # ifco <- ifgo
    out["layer0/recurrent_kernel"] = t = numpy.zeros((4, 16), dtype)
    t[:, 0:16] = w["weight_hh_l0"][0:16, :].T  # ifco <- ifgo
    out["layer0/bias"] = t = numpy.zeros((16,), dtype)
    t[0:16] = w["bias_ih_l0"][0:16] + w["bias_hh_l0"][0:16]  # ifco <- ifgo
    out["layer1/kernel"] = t = numpy.zeros((4, 16), dtype)
    t[:, 0:16] = w["weight_ih_l1"][0:16, :].T  # ifco <- ifgo
    out["layer1/recurrent_kernel"] = t = numpy.zeros((4, 16), dtype)
    t[:, 0:16] = w["weight_hh_l1"][0:16, :].T  # ifco <- ifgo
    out["layer1/bias"] = t = numpy.zeros((16,), dtype)
    t[0:16] = w["bias_ih_l1"][0:16] + w["bias_hh_l1"][0:16]  # ifco <- ifgo
    return out
