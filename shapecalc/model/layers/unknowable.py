"""Keras layer classes whose shapes no config can tell, and classes Keras 3 no longer has.

A model file may name any class; a class without a shape rule is unknown (``--skip-unknown``
lists it and goes on). For the classes here, no rule can exist: their shapes live in Python
code, a foreign framework's object or a class Keras 3 removed, not in the layer's config.
Each carries the one line the user is shown instead of "shapecalc has no shape rule for it".
The README's list of them is generated from :data:`UNKNOWABLE` (``scripts/update_docs.py``).

>>> reason("Lambda")
'runs Python code, which shapecalc never runs: its output shape is not in its config'
>>> reason("MyAttention")
'shapecalc has no shape rule for it'
"""

from __future__ import annotations

#: The reason given for an unknown class that is not on the list.
NO_RULE = "shapecalc has no shape rule for it"

_REMOVED = "removed in Keras 3 (a Keras 2 class): load the model in Keras 2 to see its shapes"
#: Class -> why its shapes cannot be derived from its config.
UNKNOWABLE: dict[str, str] = {
    # Shapes in code: the config records a function or an object, not what it computes.
    "Lambda": "runs Python code, which shapecalc never runs: its output shape is not in its config",
    "Layer": (
        "the base class of every layer: a custom subclass computes its shapes in its own Python "
        "code, which the config does not hold"
    ),
    "Wrapper": (
        "the abstract base of the wrappers: a model holds its subclasses (TimeDistributed, "
        "Bidirectional), never a Wrapper itself"
    ),
    # Shapes in another framework's object, which the Keras config only points to.
    "TFSMLayer": "wraps a TensorFlow SavedModel: its shapes are in that SavedModel, not in the config",
    "TorchModuleWrapper": "wraps a PyTorch module: its shapes are in the module's code, not in the config",
    "JaxLayer": "wraps a JAX function: its shapes are in the function's code, not in the config",
    "FlaxLayer": "wraps a Flax module: its shapes are in the module's code, not in the config",
    # Removed from Keras 3: no Keras 3 model holds them, so no Keras 3 truth exists for their shapes.
    "LocallyConnected1D": f"was {_REMOVED}",
    "LocallyConnected2D": f"was {_REMOVED}",
}


def reason(class_name: str) -> str:
    """Why layer class ``class_name`` has no shapes: its line in :data:`UNKNOWABLE`, or :data:`NO_RULE`."""
    return UNKNOWABLE.get(class_name, NO_RULE)
