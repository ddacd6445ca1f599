"""Layer options in model files: pydantic schemas over shapecalc's own field types.

Each layer rule declares the options it reads as a subclass of :class:`Options`
and, beside it, the Keras arguments that cannot change a shape or a count
(``activation``, ``dropout``, ...): those are set aside by :func:`split_options`
and listed as ignored. Anything else is refused; a bad value becomes a
:class:`~shapecalc.errors.ShapecalcError` that names the field and echoes the value.

>>> class Example(Options):
...     units: Size
>>> Example.model_validate({"units": "U"}).units
Expr('U')
>>> validate(Example, {"units": -3}, "Dense")
Traceback (most recent call last):
...
shapecalc.errors.ShapecalcError: units: must be a positive integer, got -3
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, PlainValidator, ValidationError

from shapecalc.convert import to_size
from shapecalc.dims import Dim, Expr
from shapecalc.errors import SHOWN_LENGTH, ShapecalcError, shown


def as_size(value: Any) -> Dim:
    """A positive integer, a name or an expression (``W - 2``)."""
    return to_size(value, "size")


def as_sizes(value: Any) -> tuple[Dim, ...]:
    """One size or a list of sizes, as a tuple (rules check the length)."""
    if isinstance(value, (list, tuple)):
        return tuple(as_size(item) for item in value)
    return (as_size(value),)


def as_count(value: Any) -> int:
    """A positive integer literal (strides and repeats cannot be symbolic)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ShapecalcError(f"must be a positive integer, got {shown(value)}")
    return value


def as_counts(value: Any) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(as_count(item) for item in value)
    return (as_count(value),)


def as_axis(value: Any) -> tuple[int, ...]:
    """An axis or a list of axes (negative counts from the end)."""
    items = value if isinstance(value, (list, tuple)) else (value,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int):
            raise ShapecalcError(f"must be an integer axis or a list of them, got {shown(value)}")
    return tuple(items)


# ``int | Expr`` spelled out (not the ``Dim`` alias) so pydantic resolves it anywhere.
Size = Annotated[int | Expr, PlainValidator(as_size)]
Sizes = Annotated[tuple[int | Expr, ...], PlainValidator(as_sizes)]
Counts = Annotated[tuple[int, ...], PlainValidator(as_counts)]
Count = Annotated[int, PlainValidator(as_count)]
Axes = Annotated[tuple[int, ...], PlainValidator(as_axis)]
Flag = Annotated[bool, PlainValidator(lambda value: _flag(value))]
DataFormat = Literal["channels_last", "channels_first"]


def _unset(value: Any) -> None:
    if value not in (None, False, 0):
        raise ShapecalcError(f"is not supported (it adds weights shapecalc cannot count), got {shown(value)}")
    return None


#: A Keras argument shapecalc accepts only unset (``lora_rank``, ``renorm``): set, it adds weights.
Unset = Annotated[None, PlainValidator(_unset)]

#: What every Keras layer takes besides its own arguments (the base ``Layer``'s, and the input
#: shape a Keras 2 file records on its first layer); none changes a shape or a count.
LAYER_ARGUMENTS = frozenset(
    {"name", "dtype", "trainable", "autocast", "activity_regularizer", "input_dim", "input_shape"}
    | {"batch_input_shape"}
)


def weight_settings(*weights: str) -> frozenset[str]:
    """Keras' initializer, regularizer and constraint arguments of ``weights``: none changes a shape.

    >>> sorted(weight_settings("bias"))
    ['bias_constraint', 'bias_initializer', 'bias_regularizer']
    """
    return frozenset(f"{w}_{kind}" for w in weights for kind in ("initializer", "regularizer", "constraint"))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ShapecalcError(f"must be true or false, got {shown(value)}")
    return value


def aliases(*names: str) -> Any:
    """Accept the field under each of ``names`` (``kernel`` and Keras' ``kernel_size``)."""
    return AliasChoices(*names)


class Options(BaseModel):
    """Options of one layer class; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


OptionsT = TypeVar("OptionsT", bound=Options)


def split_options(
    options: Mapping[str, Any], inert: frozenset[str]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``options`` without the ``inert`` keys, and those keys given, sorted.

    >>> split_options({"units": 4, "activation": "relu"}, frozenset({"activation", "name"}))
    ({'units': 4}, ('activation',))
    """
    kept = {key: value for key, value in options.items() if key not in inert}
    return kept, tuple(sorted(key for key in options if key in inert))


def validate(
    schema: type[OptionsT], options: Mapping[str, Any], class_name: str, known: frozenset[str] = frozenset()
) -> OptionsT:
    """``options`` checked against ``schema``; the first problem raises :class:`ShapecalcError`.

    A misspelt key is refused with the closest of the schema's keys and ``known`` (the
    arguments set aside as inert) as a suggestion.
    """
    try:
        return schema.model_validate(dict(options))
    except ValidationError as error:
        raise options_error(error, class_name, sorted(accepted_keys(schema) | known)) from None


def options_error(error: ValidationError, class_name: str, known: list[str] | None = None) -> ShapecalcError:
    """The first problem of a pydantic ``error`` as one line naming the field and the value.

    ``known`` lists the valid option names, to suggest one for a misspelt key.
    """
    first = error.errors(include_url=False)[0]
    field = field_path(first["loc"]) or None
    kind, value = first["type"], first.get("input")
    cause = (first.get("ctx") or {}).get("error")
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = f"is not an option of {class_name}"
        close = difflib.get_close_matches(str(field), known or [], n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    elif isinstance(cause, ShapecalcError):
        message = cause.message
    elif kind == "list_type":  # also a YAML !!set: it has no order
        message = f"must be a list, got {shown(value)}"
    elif kind == "literal_error":
        message = f"must be {first['ctx']['expected']}, got {shown(value)}"
    else:
        text = str(first["msg"])
        message = f"{text[:1].lower()}{text[1:]}, got {shown(value)}"
    return ShapecalcError(message, option=field)


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """``("kernel", 1)`` -> ``kernel[1]``: names joined by dots, list positions in brackets.

    >>> field_path(("layers", 2, "units"))
    'layers[2].units'
    """
    text = ""
    for part in location:
        if not isinstance(part, int) and len(str(part)) > SHOWN_LENGTH:  # a 100 KB key, echoed
            part = shown(str(part))
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@cache
def accepted_keys(schema: type[Options]) -> frozenset[str]:
    """Every key ``schema`` reads, aliases included (to pick them out of a Keras config)."""
    keys: set[str] = set()
    for name, info in schema.model_fields.items():
        keys.add(name)
        if isinstance(info.validation_alias, AliasChoices):
            keys.update(str(choice) for choice in info.validation_alias.choices)
    return frozenset(keys)
