"""JSON output: the documented contract, ``LayerResult.to_json()`` serialised.

>>> from shapecalc.api import shapes
>>> import json
>>> json.loads(render_json(shapes("lstm", units=4, input_dim=3)))["params"]
128
"""

from __future__ import annotations

import json

from shapecalc.result import LayerResult


def render_json(result: LayerResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
