"""How much of a model file shapecalc reads: every bound is checked while the file is parsed,
before a large structure exists, so no file under :data:`MAX_BYTES` takes more than a few
seconds or a few hundred MB.

>>> f"{MAX_VALUES:,} values, {MAX_DEPTH} levels, {MAX_DIGITS} digits"
'1,000,000 values, 200 levels, 4300 digits'
"""

from __future__ import annotations

from shapecalc.errors import SHOWN_LENGTH, ShapecalcError, shown

#: Largest model file (and largest ``config.json`` inside a ``.keras`` archive) read.
MAX_BYTES = 64 * 2**20
#: Most values (numbers, strings, lists, mappings, mapping keys) a file may hold, YAML aliases
#: counted as often as they are used; a 20,000-layer Keras model holds about 800,000.
MAX_VALUES = 1_000_000
#: Deepest nesting of lists and mappings (a Keras model nested in a model adds about 4 levels).
MAX_DEPTH = 200
#: Longest integer literal: Python's own ``int(str)`` limit, applied in every Python version.
MAX_DIGITS = 4300
#: Longest model or layer name (names are printed in every table).
MAX_NAME_LENGTH = 1000


def too_many_values(source: str) -> str:
    """The message for a file past :data:`MAX_VALUES`.

    >>> too_many_values("m.json")
    'm.json: the file holds more than 1,000,000 values (numbers, strings, lists, mappings)'
    """
    return f"{source}: the file holds more than {MAX_VALUES:,} values (numbers, strings, lists, mappings)"


def too_deep(source: str, kind: str) -> str:
    """The message for a file past :data:`MAX_DEPTH`.

    >>> too_deep("m.json", "JSON")
    'm.json: JSON nested too deeply (more than 200 levels)'
    """
    return f"{source}: {kind} nested too deeply (more than {MAX_DEPTH} levels)"


def too_many_digits(source: str) -> str:
    return f"{source}: a number has more than {MAX_DIGITS} digits"


def given_twice(where: str, key: object) -> str:
    """The message for a mapping that gives a key twice (which one would count?); ``where`` is
    the file, and the place in it when known."""
    return f"{where}: the key {shown(key)} is given twice"


def lone_surrogate(text: str) -> str:
    """The reason to refuse ``text`` holding half a UTF-16 surrogate pair: no output can encode it.

    >>> print(lone_surrogate("x" + chr(0xD800)))
    the text 'x\\ud800' holds a lone surrogate (U+D800 to U+DFFF), which is not Unicode text
    """
    return f"the text {shown(text)} holds a lone surrogate (U+D800 to U+DFFF), which is not Unicode text"


def checked_name(value: object, what: str) -> str:
    """``value`` as a model's or a layer's name: text of at most :data:`MAX_NAME_LENGTH` characters.

    >>> checked_name(3, "m.json: layer 2")
    Traceback (most recent call last):
    ...
    shapecalc.errors.ShapecalcError: m.json: layer 2: the name must be text, got 3
    """
    if not isinstance(value, str):
        raise ShapecalcError(f"{what}: the name must be text, got {shown(value)}")
    if len(value) > MAX_NAME_LENGTH:
        raise ShapecalcError(f"{what}: the name {shown(value)} is longer than {MAX_NAME_LENGTH:,} characters")
    return value


def layer_place(source: str, position: int, name: str) -> str:
    """Where an error is, as every message says it: ``m.yaml: layer 3 'lstm_2'`` (a long name cut short).

    >>> layer_place("m.yaml", 3, "lstm_2")
    "m.yaml: layer 3 'lstm_2'"
    """
    return f"{source}: layer {position} {shown(name)}"


def shown_ref(ref: object) -> str:
    """A tensor reference in a message: as written (``enc[0][1]``), cut short when its name is long.

    >>> shown_ref("enc[0][1]")
    'enc[0][1]'
    """
    text = str(ref)
    return text if len(text) <= SHOWN_LENGTH else shown(text)
