"""Layer classes shapecalc cannot give shapes to, each with the reason, said in one line.

``REMOVED`` holds the Keras 2 classes that Keras 3 no longer has: a file naming one was
written by Keras 2, and Keras 3 cannot load it either.

>>> print(unknown_layer_error("LocallyConnected2D"))  # doctest: +ELLIPSIS
layer class 'LocallyConnected2D' was removed in Keras 3 (a Keras 2 convolution with unshared ...
"""

from __future__ import annotations

from shapecalc.errors import ShapecalcError, shown
from shapecalc.model.layers.base import UnknownLayerError

_LOCALLY = "a Keras 2 convolution with unshared weights; Keras 3 cannot load it either"

#: Keras 2 classes gone from Keras 3, and what to say about each.
REMOVED = {"LocallyConnected1D": _LOCALLY, "LocallyConnected2D": _LOCALLY}


class UnknowableLayerError(UnknownLayerError):
    """A class shapecalc knows it has no rule for, and why (``--skip-unknown`` still lists it)."""

    def __init__(self, class_name: str, why: str) -> None:
        ShapecalcError.__init__(
            self, f"layer class {shown(class_name)} {why} (use --skip-unknown to list it and go on)"
        )
        self.class_name = class_name


def unknown_layer_error(class_name: str) -> UnknownLayerError:
    """The error for a class without a rule: the reason when shapecalc knows one."""
    key = class_name.replace("_", "").lower()
    for name, why in REMOVED.items():
        if name.lower() == key:
            return UnknowableLayerError(class_name, f"was removed in Keras 3 ({why})")
    return UnknownLayerError(class_name)
