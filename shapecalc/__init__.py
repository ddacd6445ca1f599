"""shapecalc: know thy shapes.

Every tensor inside recurrent and convolutional-recurrent layers, derived
from the layer's config without importing TensorFlow, Keras or PyTorch.

>>> from shapecalc import shapes
>>> shapes("lstm", units=32, input_dim=20).tensor("kernel").shape
(20, 128)
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shapecalc.api import build_config, shapes
    from shapecalc.configs import ConvRecurrentConfig, RecurrentConfig, TorchRecurrentConfig
    from shapecalc.dims import Dim, Expr, evaluate, parse_dim, substitute, sym
    from shapecalc.errors import ShapecalcError
    from shapecalc.result import LayerResult, Tensor
    from shapecalc.rules import derive

#: Where each public name lives. Imported on first use, so that ``shapecalc``
#: commands which need no engine (completion, --help) start without loading it.
_HOMES = {
    "build_config": "shapecalc.api",
    "shapes": "shapecalc.api",
    "ConvRecurrentConfig": "shapecalc.configs",
    "RecurrentConfig": "shapecalc.configs",
    "TorchRecurrentConfig": "shapecalc.configs",
    "Dim": "shapecalc.dims",
    "Expr": "shapecalc.dims",
    "evaluate": "shapecalc.dims",
    "parse_dim": "shapecalc.dims",
    "substitute": "shapecalc.dims",
    "sym": "shapecalc.dims",
    "ShapecalcError": "shapecalc.errors",
    "LayerResult": "shapecalc.result",
    "Tensor": "shapecalc.result",
    "derive": "shapecalc.rules",
}

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


def __getattr__(name: str) -> object:
    """Import a public name from its home module the first time it is used."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'shapecalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
