"""The one error type users see.

>>> str(ShapecalcError("must be a positive integer, got -3", option="units"))
'units: must be a positive integer, got -3'
"""

from __future__ import annotations


class ShapecalcError(ValueError):
    """Bad input: a size, an option combination, an expression or a file.

    The fields say what went wrong, so that each surface renders it once, its own way:
    ``message`` is the reason (the same words on every surface), ``option`` the key it
    is about (``units``; the command line shows ``--units``), ``code`` a stable kind of
    mistake (``invalid``, ``required``, ``unknown_option``, ``unknown_layer``, ...), and
    ``where`` the place in a file or batch input (``m.yaml: layer 3 'lstm_2'``).
    """

    def __init__(
        self, message: str, option: str | None = None, *, code: str = "invalid", where: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.option = option
        self.code = code
        self.where = where

    def __str__(self) -> str:
        text = f"{self.option}: {self.message}" if self.option else self.message
        return f"{self.where}: {text}" if self.where else text

    def at(self, option: str) -> ShapecalcError:
        """The same error, attributed to ``option`` unless it already names one."""
        if self.option:
            return self
        return ShapecalcError(self.message, option=option, code=self.code, where=self.where)


#: Longest echo of a user's value in a message; longer values are cut in the middle.
SHOWN_LENGTH = 60


def shown(value: object) -> str:
    """``value`` as an error message echoes it: its repr, cut short when it is huge.

    A message must stay one readable line even for a 1 MB expression, and
    ``str()`` of an integer with thousands of digits raises in Python 3.11.

    >>> shown("W - 2")
    "'W - 2'"
    >>> shown("W" * 100)
    "'WWWWWWWWWWWWWWWWWWWWWWWWWWWWW...WWWWWWWWWWWWWWWWWWWWWWWWWWWWW' (100 characters)"
    >>> shown(-(10**100))
    'a 101-digit integer'
    >>> laughs = ["lol"]
    >>> for _ in range(100):  # 2**100 leaves, as YAML aliases can build
    ...     laughs = [laughs, laughs]
    >>> shown(laughs)
    '[[[[[[[...], [...]], [[...], [...], [...]], [[...], [...]]]]]]]'
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**SHOWN_LENGTH:
        if value.bit_length() > 13_000:  # past str()'s 4300-digit limit
            return "an integer of more than 3900 digits"
        return f"a {len(str(abs(value)))}-digit integer"
    if isinstance(value, (str, int, float)):
        text = repr(value)
    else:  # a container from a file may share itself a billion times (YAML aliases): bound the walk
        import reprlib

        text = reprlib.Repr().repr(value)
    if len(text) <= SHOWN_LENGTH:
        return text
    half = SHOWN_LENGTH // 2
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return f"{text[:half]}...{text[-half:]}{size}"


def did_you_mean(word: object, known: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'units'?)`` when ``word`` is close to one of ``known``, else ``""``.

    >>> did_you_mean("unitz", ["units", "input_dim"])
    " (did you mean 'units'?)"
    """
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(str(word), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
