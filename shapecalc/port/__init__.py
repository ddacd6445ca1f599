"""``shapecalc port``: move a recurrent layer's weights between Keras 3, PyTorch and ONNX.

:func:`port_recipe` says, for each tensor the target builds, which slices of which source
tensors fill it (transposed, reordered by gate, added, or zero); :func:`apply_recipe` runs
a recipe on NumPy arrays (the optional extra ``shapecalc[port]``).
"""

from __future__ import annotations

from shapecalc.port.apply import apply_recipe
from shapecalc.port.recipe import Part, Recipe, TargetTensor, Term, index_text, port_recipe

__all__ = ["Part", "Recipe", "TargetTensor", "Term", "apply_recipe", "index_text", "port_recipe"]
