"""The one error type users see.

>>> str(ShapecalcError("must be a positive integer, got -3", option="--units"))
'--units: must be a positive integer, got -3'
"""

from __future__ import annotations


class ShapecalcError(ValueError):
    """Bad input: a size, an option combination, an expression or a file.

    ``option`` names where the bad value came from (``--units``, ``layer 3
    'lstm_2': units``); the command line prints ``message`` on one line.
    """

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.option = option

    def __str__(self) -> str:
        return f"{self.option}: {self.message}" if self.option else self.message

    def at(self, option: str) -> ShapecalcError:
        """The same error, attributed to ``option`` unless it already names one."""
        if self.option:
            return self
        return ShapecalcError(self.message, option=option)
