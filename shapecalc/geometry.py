"""Shared geometry: positive-size checks, tuple normalisation, convolution output length.

>>> conv_output_length(128, kernel=3)
126
>>> from shapecalc.dims import sym
>>> conv_output_length(sym("W"), kernel=3, stride=2)
Expr('(W - 3)//2 + 1')
>>> conv_output_length(sym("W"), kernel=3, stride=2, padding="same")
Expr('(W + 1)//2')
"""

from __future__ import annotations

from collections.abc import Sequence

from shapecalc.dims import MAX_INT, Dim, Expr, ceildiv, floordiv, never_positive
from shapecalc.errors import ShapecalcError, shown

PADDINGS = ("valid", "same")


def check_positive(value: Dim, name: str) -> Dim:
    """Return ``value`` if it can be a size (a symbol, or an int >= 1); else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Expr):
            if never_positive(value):
                raise ShapecalcError(f"must be a positive size, got {shown(str(value))}", option=name)
            return value
        raise ShapecalcError(f"must be a positive integer or a name, got {shown(value)}", option=name)
    if value < 1:
        raise ShapecalcError(f"must be a positive integer, got {shown(value)}", option=name)
    if value > MAX_INT:
        raise ShapecalcError(f"must be at most {MAX_INT}, got {shown(value)}", option=name)
    return value


def normalize_tuple(
    value: Dim | Sequence[Dim], rank: int, name: str, broadcast: bool = True
) -> tuple[Dim, ...]:
    """``3`` or ``(3,)`` -> ``(3, 3)`` for rank 2 (unless not ``broadcast``); else ``rank`` entries.

    >>> normalize_tuple((3,), 2, "kernel_size"), normalize_tuple(2, 3, "strides")
    ((3, 3), (2, 2, 2))
    """
    if isinstance(value, (int, str, Expr)):
        items: tuple[Dim, ...] = (value,) * (rank if broadcast else 1)
    else:
        items = tuple(value)
        if broadcast and len(items) == 1:
            items *= rank
    if len(items) != rank:
        text = " ".join(str(v) for v in items)
        wanted = f"1 or {rank} values" if broadcast and rank > 1 else f"{rank} value" + "s" * (rank > 1)
        raise ShapecalcError(f"needs {wanted}, got {len(items)} ({text})", option=name)
    return tuple(check_positive(item, name) for item in items)


def dilated_kernel(kernel: Dim, dilation: Dim) -> Dim:
    """The span a dilated kernel covers: ``dilation * (kernel - 1) + 1``."""
    return dilation * (kernel - 1) + 1


def conv_output_length(
    length: Dim, kernel: Dim, stride: int = 1, padding: str = "valid", dilation: Dim = 1
) -> Dim:
    """Output length of a convolution along one axis, as Keras 3 computes it.

    ``valid``: ``(length - dilation*(kernel - 1) - 1)//stride + 1``;
    ``same``: ``ceil(length / stride)``.
    """
    if padding == "same":
        return ceildiv(length, stride)
    if padding != "valid":
        raise ShapecalcError(f"must be one of {', '.join(PADDINGS)}, got {padding!r}", option="padding")
    return floordiv(length - dilated_kernel(kernel, dilation), stride) + 1


def never_at_least(big: Dim, small: Dim) -> bool:
    """True when ``big >= small`` fails for every choice of sizes >= 1 (so no config can meet it).

    >>> from shapecalc.dims import sym
    >>> never_at_least(2, sym("D") * 2 + 1), never_at_least(sym("H"), sym("H") + 1)
    (True, True)
    >>> never_at_least(sym("W"), 3), never_at_least(5, 3)
    (False, False)
    """
    return never_positive(big - small + 1)


def valid_padding_constraint(length: Dim, kernel: Dim, dilation: Dim, axis: str) -> str | None:
    """Check that a ``valid`` convolution fits; return the condition when it is symbolic.

    Raises :class:`ShapecalcError` when the (dilated) kernel is larger than the input, for a
    concrete input or for every size a symbolic one could take.
    """
    span = dilated_kernel(kernel, dilation)
    if never_at_least(length, span):
        dilated = f" (dilated to {span})" if span != kernel else ""
        raise ShapecalcError(
            f"{kernel}{dilated} is larger than the input's {axis} {length} under 'valid' padding",
            option="kernel_size",
        )
    if isinstance(length, int) and isinstance(span, int):
        return None
    return f"{length} >= {span}"


def transposed_output_length(
    length: Dim,
    kernel: Dim,
    stride: int = 1,
    padding: str = "valid",
    dilation: Dim = 1,
    output_padding: int | None = None,
) -> Dim:
    """Output length of a transposed convolution along one axis, as Keras 3 computes it.

    Without ``output_padding``: ``(length - 1)*stride + max(span, stride)`` for ``valid``
    (``span`` is the dilated kernel), ``length*stride`` for ``same``; with it,
    ``(length - 1)*stride + span + output_padding`` (``valid``) or
    ``(length - 1)*stride + span % 2 + output_padding`` (``same``).

    >>> transposed_output_length(5, kernel=3, stride=2), transposed_output_length(5, 3, 2, "same")
    (11, 10)
    >>> from shapecalc.dims import sym
    >>> transposed_output_length(sym("W"), kernel=4, stride=2, padding="same", output_padding=1)
    Expr('W*2 - 1')
    """
    span = dilated_kernel(kernel, dilation)
    if padding not in PADDINGS:
        raise ShapecalcError(f"must be one of {', '.join(PADDINGS)}, got {padding!r}", option="padding")
    if not isinstance(span, int):
        raise ShapecalcError(f"must be a number for a transposed convolution, got {kernel}", option="kernel")
    if output_padding is None:
        if padding == "same":
            return length * stride
        return (length - 1) * stride + max(span, stride)
    if padding == "same":
        return (length - 1) * stride + span % 2 + output_padding
    return (length - 1) * stride + span + output_padding
