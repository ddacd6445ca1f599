"""shapecalc: know thy shapes.

Every tensor inside recurrent and convolutional-recurrent layers, derived
from the layer's config without importing TensorFlow, Keras or PyTorch.

>>> from shapecalc import shapes
>>> shapes("lstm", units=32, input_dim=20).tensor("kernel").shape
(20, 128)
"""

from shapecalc.api import build_config, shapes
from shapecalc.configs import ConvRecurrentConfig, RecurrentConfig, TorchRecurrentConfig
from shapecalc.dims import Dim, Expr, evaluate, parse_dim, substitute, sym
from shapecalc.errors import ShapecalcError
from shapecalc.result import LayerResult, Tensor
from shapecalc.rules import derive

__all__ = [
    "ConvRecurrentConfig",
    "Dim",
    "Expr",
    "LayerResult",
    "RecurrentConfig",
    "ShapecalcError",
    "Tensor",
    "TorchRecurrentConfig",
    "build_config",
    "derive",
    "evaluate",
    "parse_dim",
    "shapes",
    "substitute",
    "sym",
]
__version__ = "0.1.0"
