"""Whole models: shapes propagated through a stack or graph of layers.

``shapecalc model FILE`` reads shapecalc's own model files (YAML, TOML, JSON)
and Keras' (``model.to_json()`` output, ``.keras`` archives) into a graph
(:mod:`.graph`) and runs each layer's shape rule (:mod:`.layers`) in order
(:mod:`.engine`); :mod:`shapecalc.render.model_table` and
:mod:`shapecalc.render.model_svg` draw the result. Importing this package is
cheap: the loaders, pydantic and YAML load on first use.

>>> import json, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> model = {"input": [10, 4], "layers": [{"type": "dense", "units": 2}]}
>>> _ = (folder / "m.json").write_text(json.dumps(model))
>>> analyze(folder / "m.json").params
10
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from shapecalc.dims import Dim
    from shapecalc.model.result import ModelResult


def analyze(
    path: str | Path,
    *,
    skip_unknown: bool = False,
    dtype: str = "float32",
    bindings: Mapping[str, Dim] | None = None,
) -> ModelResult:
    """Every layer's output shapes and parameters for the model in file ``path``."""
    # Imported here for start-up speed: the layer commands import this package, not the engine.
    from shapecalc.model.engine import propagate
    from shapecalc.model.reader import read_model

    return propagate(read_model(path), skip_unknown=skip_unknown, dtype=dtype, bindings=bindings)
