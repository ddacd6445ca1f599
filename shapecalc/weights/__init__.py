"""Weights files, read without any framework: safetensors, ``torch.save`` (zip and legacy),
Keras ``.keras`` / ``.weights.h5`` / ``.h5`` and ONNX. Every tensor's name, shape and dtype,
and the recurrent layers they determine, rebuilt through the single-layer engine.

Only headers and pickles are read, never tensor data; pickles go through a restricted
unpickler that runs nothing (:mod:`shapecalc.weights.unpickle`). The entry point is
:func:`shapecalc.weights.reader.read_weights`.
"""
