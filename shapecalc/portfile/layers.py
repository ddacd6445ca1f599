"""What ``shapecalc port FILE`` writes: each converted layer, in the target's own terms.

A :class:`PortedLayer` is one layer of the target framework (a PyTorch module, a Keras layer, an
ONNX node), its constructor arguments and its weights by the target's own names
(``weight_ih_l0``; ``kernel``, ``backward/bias``; ``W``, ``R``, ``B``).

>>> layer = PortedLayer("enc", "lstm", 3, 4, arrays={})
>>> layer.directions, layer.levels
(1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PortedLayer:
    """One converted layer: its name, cell (``lstm``, ``gru``, ``rnn``), sizes and weights."""

    name: str
    cell: str
    input_size: int
    hidden_size: int
    arrays: dict[str, Any] = field(repr=False)
    bidirectional: bool = False
    num_layers: int = 1
    use_bias: bool = True
    #: A GRU applies its reset gate after the recurrent product (PyTorch's and Keras's default).
    reset_after: bool = True
    #: The activation of the candidate (``nn.RNN``'s nonlinearity, Keras's ``activation``).
    activation: str = "tanh"
    #: The source layer, as a person reads it: ``LSTM 'enc'`` or ``nn.GRU 'rnn'``.
    source: str = ""

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def levels(self) -> int:
        return self.num_layers
