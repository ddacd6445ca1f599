"""``shapecalc port FILE``: the recurrent layers of a real checkpoint, converted and written.

:mod:`shapecalc.portfile.convert` reads, converts and builds the bytes; ``layers`` names what is
written (a ``PortedLayer`` per layer); ``torch_file``, ``keras_file`` and ``onnx_file`` write it in
each framework's own format (safetensors, Keras 3 ``.weights.h5`` + model JSON, ONNX).
"""
