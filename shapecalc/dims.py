"""Dimensions: plain ints, or small symbolic integer expressions.

A dimension is either an ``int`` or an :class:`Expr` over named sizes such as
``batch``, ``timestep`` or ``W``. Expressions support ``+``, ``-``, ``*`` and
floor division by an integer constant, fold as they are built, and print in
one canonical form that is itself a valid Python integer expression; parsing
a printed expression gives the same expression back.

>>> W = sym("W")
>>> (W - 3) // 2 + 1
Expr('(W - 3)//2 + 1')
>>> ((W - 3) // 2 + 1 - 3) // 2 + 1
Expr('(W - 7)//4 + 1')
>>> parse_dim("(H - 1)//2 + 1")
Expr('(H - 1)//2 + 1')
>>> evaluate(parse_dim("batch*timestep*6656"), {"batch": 2, "timestep": 3})
39936

Nothing here evaluates Python code: the parser accepts integers, names and
``+ - * // ( )`` only.
"""

from __future__ import annotations

import functools
import keyword
import math
import re
from collections.abc import Iterable, Mapping
from typing import Union

from shapecalc.errors import ShapecalcError, shown

#: A dimension: a concrete size, or a symbolic expression.
Dim = Union[int, "Expr"]

#: Longest expression text the parser accepts (a guard against hostile input).
MAX_EXPRESSION_LENGTH = 2000
#: Deepest parenthesis / unary-operator nesting the parser accepts.
MAX_NESTING = 64
#: Largest absolute integer literal, folded constant or coefficient in a dimension (int64).
MAX_INT = 2**63 - 1
#: Longest symbol name.
MAX_NAME_LENGTH = 64
#: Largest coefficient: counts such as FLOPs may pass int64 (sizes may not: see
#: :func:`largest_number`), but a coefficient this large is runaway growth.
MAX_COEFFICIENT = 10**100

#: Names that sort first in products, so ``batch*timestep*W`` reads naturally.
_LEADING_NAMES = {"batch": 0, "timestep": 1}


def sym(name: str) -> Expr:
    """A named size: ``sym("W")`` is the expression ``W``.

    >>> sym("W") * 2
    Expr('W*2')
    """
    check_name(name)
    return Expr._make({(_Name(name),): 1})


def check_name(name: str) -> None:
    """Raise :class:`ShapecalcError` unless ``name`` is a usable symbol name."""
    if len(name) > MAX_NAME_LENGTH:
        raise ShapecalcError(
            f"{shown(name)} is not a valid dimension name (longer than {MAX_NAME_LENGTH} characters)"
        )
    # An ASCII identifier is [A-Za-z_][A-Za-z0-9_]*, checked without compiling a pattern at start-up.
    if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name):
        raise ShapecalcError(f"{shown(name)} is not a valid dimension name (use letters, digits and _)")


# --------------------------------------------------------------------------- factors
class _Factor:
    """One factor of a product term: a name, a floor division or a parenthesised sum."""

    __slots__ = ("_hash", "key")
    key: tuple[object, ...]
    _hash: int

    def _keyed(self, key: tuple[object, ...]) -> None:
        self.key = key
        self._hash = hash(key)  # factors are dict keys inside every product: hash once

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _Factor) and self.key == other.key)

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: _Factor) -> bool:
        return self.key < other.key

    def text(self, alone: bool) -> str:
        """Printed form; ``alone`` is true when the factor is a whole term."""
        raise NotImplementedError

    def value(self, env: Mapping[str, int]) -> int:
        raise NotImplementedError

    def names(self) -> set[str]:
        raise NotImplementedError


class _Name(_Factor):
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        self._keyed((0, _LEADING_NAMES.get(name, 2), name.lower(), name))

    def text(self, alone: bool) -> str:
        return self.name

    def value(self, env: Mapping[str, int]) -> int:
        try:
            return env[self.name]
        except KeyError:
            raise ShapecalcError(f"no value for dimension {self.name!r}") from None

    def names(self) -> set[str]:
        return {self.name}


class _FloorDiv(_Factor):
    __slots__ = ("divisor", "numerator")

    def __init__(self, numerator: Expr, divisor: int) -> None:
        self.numerator = numerator
        self.divisor = divisor
        self._keyed((1, str(numerator), divisor))

    def text(self, alone: bool) -> str:
        num = self.numerator
        inner = str(num) if num._is_bare_name() else f"({num})"
        body = f"{inner}//{self.divisor}"
        return body if alone else f"({body})"

    def value(self, env: Mapping[str, int]) -> int:
        return evaluate(self.numerator, env) // self.divisor

    def names(self) -> set[str]:
        return self.numerator.names()


class _Paren(_Factor):
    """A sum of two or more terms kept unexpanded inside a product."""

    __slots__ = ("inner",)

    def __init__(self, inner: Expr) -> None:
        self.inner = inner
        self._keyed((2, str(inner)))

    def text(self, alone: bool) -> str:
        return f"({self.inner})"

    def value(self, env: Mapping[str, int]) -> int:
        return evaluate(self.inner, env)

    def names(self) -> set[str]:
        return self.inner.names()


Monomial = tuple[_Factor, ...]


# --------------------------------------------------------------------------- expressions
class Expr:
    """An immutable integer expression: a sum of ``coefficient * product`` terms.

    Build expressions with :func:`sym`, :func:`parse_dim` and the arithmetic
    operators; a result that folds to a constant comes back as a plain ``int``.
    """

    __slots__ = ("_hash", "_text", "terms")
    terms: tuple[tuple[Monomial, int], ...]
    _text: str
    _hash: int

    @classmethod
    def _sorted(cls, terms: tuple[tuple[Monomial, int], ...]) -> Expr:
        """An expression from terms already in canonical order with nonzero coefficients."""
        self = object.__new__(cls)
        self.terms = terms
        self._text = ""
        self._hash = -1
        return self

    @classmethod
    def _make(cls, coefficients: Mapping[Monomial, int]) -> Expr:
        self = object.__new__(cls)
        kept = [(m, c) for m, c in coefficients.items() if c != 0]
        kept.sort(key=_term_order)
        self.terms = tuple(kept)
        self._text = ""
        self._hash = -1
        return self

    # -- inspection ---------------------------------------------------------
    def names(self) -> set[str]:
        """All symbol names used, e.g. ``{"W", "batch"}``."""
        found: set[str] = set()
        for monomial, _ in self.terms:
            for factor in monomial:
                found |= factor.names()
        return found

    def constant(self) -> int:
        """The constant term (0 when there is none)."""
        for monomial, coefficient in self.terms:
            if not monomial:
                return coefficient
        return 0

    def _is_bare_name(self) -> bool:
        return (
            len(self.terms) == 1
            and self.terms[0][1] == 1
            and len(self.terms[0][0]) == 1
            and isinstance(self.terms[0][0][0], _Name)
        )

    # -- printing -----------------------------------------------------------
    def __str__(self) -> str:
        if not self._text:
            parts: list[str] = []
            # Read as people write it: added names first, subtracted ones next, the constant last
            # (W - K + 1, not -K + W + 1); within each group the canonical order.
            ordered = sorted(self.terms, key=lambda term: (not term[0], term[1] < 0))
            for monomial, coefficient in ordered:
                # A leading minus binds tighter than //: "-W//2" would read as (-W)//2.
                bare = bool(parts) or coefficient > 0
                magnitude = _term_text(monomial, abs(coefficient), bare)
                if not parts:
                    parts.append(("-" if coefficient < 0 else "") + magnitude)
                else:
                    parts.append((" - " if coefficient < 0 else " + ") + magnitude)
            self._text = "".join(parts) or "0"
        return self._text

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and self.terms == other.terms

    def __hash__(self) -> int:
        if self._hash == -1:  # configs holding expressions are batch mode's memo keys
            self._hash = hash(self.terms)
        return self._hash

    # -- arithmetic ---------------------------------------------------------
    def __add__(self, other: Dim) -> Dim:
        return _add(self, other, 1)

    def __radd__(self, other: Dim) -> Dim:
        return _add(self, other, 1)

    def __sub__(self, other: Dim) -> Dim:
        return _add(self, other, -1)

    def __rsub__(self, other: Dim) -> Dim:
        return _add(_scale(self, -1), other, 1)

    def __neg__(self) -> Dim:
        return _scale(self, -1)

    def __mul__(self, other: Dim) -> Dim:
        return _mul(self, other)

    def __rmul__(self, other: Dim) -> Dim:
        return _mul(other, self)

    def __floordiv__(self, other: Dim) -> Dim:
        if not isinstance(other, int):
            raise ShapecalcError(f"can only divide by an integer constant, not by {other}")
        return floordiv(self, other)

    def __rfloordiv__(self, other: Dim) -> Dim:
        raise ShapecalcError(f"can only divide by an integer constant, not by {self}")


def _term_order(term: tuple[Monomial, int]) -> tuple[object, ...]:
    monomial, _ = term
    # Higher-degree terms first, the constant last.
    return (-len(monomial), [factor.key for factor in monomial])


def _term_text(monomial: Monomial, magnitude: int, bare: bool = True) -> str:
    """One term without its sign; ``bare`` allows a lone floor division unparenthesised."""
    if not monomial:
        return str(magnitude)
    alone = bare and magnitude == 1 and len(monomial) == 1
    text = "*".join(factor.text(alone) for factor in monomial)
    return text if magnitude == 1 else f"{text}*{magnitude}"


def _as_terms(value: Dim) -> dict[Monomial, int]:
    if isinstance(value, int):
        return {(): value} if value else {}
    if isinstance(value, Expr):
        return dict(value.terms)
    raise TypeError(f"not a dimension: {value!r}")


def _fold(coefficients: Mapping[Monomial, int]) -> Dim:
    """Build an expression, returning a plain int when it is constant."""
    nonzero = {m: c for m, c in coefficients.items() if c != 0}
    if not nonzero:
        return 0
    if list(nonzero) == [()]:
        return _checked(nonzero[()])
    _check_coefficients(nonzero.items())
    return Expr._make(nonzero)


def _check_coefficients(terms: Iterable[tuple[Monomial, int]]) -> None:
    for _, coefficient in terms:
        if abs(coefficient) > MAX_COEFFICIENT:
            raise ShapecalcError(f"a coefficient grows too large ({shown(coefficient)}; at most 10**100)")


def _checked(number: int) -> int:
    """``number`` itself; a size past int64 is refused, as the frameworks do."""
    if abs(number) > MAX_INT:
        raise ShapecalcError(f"{shown(number)} is too large (sizes stop at {MAX_INT})")
    return number


def largest_number(value: Dim) -> int:
    """The largest absolute integer in ``value``: itself, or any coefficient or divisor inside.

    >>> largest_number(parse_dim("(W - 9)//4 + H*3"))
    9
    """
    if isinstance(value, int):
        return abs(value)
    largest = 0
    for monomial, coefficient in value.terms:
        largest = max(largest, abs(coefficient))
        for factor in monomial:
            if isinstance(factor, _FloorDiv):
                largest = max(largest, factor.divisor, largest_number(factor.numerator))
            elif isinstance(factor, _Paren):
                largest = max(largest, largest_number(factor.inner))
    return largest


def _add(left: Dim, right: Dim, sign: int) -> Dim:
    if isinstance(left, Expr) and isinstance(right, int):
        return _shift(left, sign * right)
    total = _as_terms(left)
    for monomial, coefficient in _as_terms(right).items():
        total[monomial] = total.get(monomial, 0) + sign * coefficient
    return _fold(total)


def _shift(value: Expr, constant: int) -> Dim:
    """``value + constant`` without a re-sort: the constant term always comes last."""
    if constant == 0:
        return value
    terms = value.terms
    if not terms[-1][0]:
        constant += terms[-1][1]
        terms = terms[:-1]
    if constant:
        terms = (*terms, ((), constant))
    _check_coefficients(terms[-1:])
    return Expr._sorted(terms)


def _scale(value: Dim, factor: int) -> Dim:
    if isinstance(value, int):
        return _checked(value * factor)
    if factor == 1:
        return value
    if factor == 0:
        return 0
    # Scaling keeps the terms' order, so skip _fold's re-sort (the cost formulas scale a lot).
    terms = tuple([(m, c * factor) for m, c in value.terms])
    if abs(factor) * max([abs(c) for _, c in value.terms]) > MAX_COEFFICIENT:
        _check_coefficients(terms)
    return Expr._sorted(terms)


def _as_product(value: Expr) -> tuple[int, Monomial]:
    """``value`` as ``coefficient * factors``; a sum becomes one ``_Paren`` factor."""
    if len(value.terms) == 1:
        monomial, coefficient = value.terms[0]
        return coefficient, monomial
    content = math.gcd(*(c for _, c in value.terms))
    if value.terms[0][1] < 0:
        content = -content
    primitive = Expr._make({m: c // content for m, c in value.terms})
    return content, (_Paren(primitive),)


def _mul(left: Dim, right: Dim) -> Dim:
    if isinstance(left, int):
        return _scale(right, left) if isinstance(right, Expr) else _checked(left * right)
    if isinstance(right, int):
        return _scale(left, right)
    left_coefficient, left_factors = _as_product(left)
    right_coefficient, right_factors = _as_product(right)
    monomial = tuple(sorted(left_factors + right_factors))
    coefficient = left_coefficient * right_coefficient
    # One term, never constant (both sides hold a factor): _fold's filtering and sorting is moot.
    _check_coefficients(((monomial, coefficient),))
    return Expr._sorted(((monomial, coefficient),))


def floordiv(value: Dim, divisor: int) -> Dim:
    """``value // divisor`` with Python's floor semantics, folded.

    >>> floordiv(sym("W") * 2 + 3, 2)
    Expr('W + 1')
    """
    if divisor == 0:
        raise ShapecalcError(f"division by zero in {value}//0")
    if divisor < 0:
        return floordiv(_scale(value, -1), -divisor)
    if isinstance(value, int):
        return value // divisor
    if divisor == 1:
        return value
    terms = dict(value.terms)
    # Divide out what the divisor shares with every symbolic coefficient; the
    # constant floors: floor((g*P + c)/(g*d)) == floor((P + c//g)/d) for integer P.
    common = math.gcd(divisor, *(c for m, c in terms.items() if m))
    if common > 1:
        terms = {m: c // common for m, c in terms.items()}
        divisor //= common
        if divisor == 1:
            return _fold(terms)
    # Terms whose coefficient the divisor divides come out whole: floor(q + r/d) = q + floor(r/d).
    whole = {m: c // divisor for m, c in terms.items() if m and c % divisor == 0}
    rest = {m: c for m, c in terms.items() if m not in whole}
    quotient = _fold(whole)
    if set(rest) <= {()}:
        return _add(quotient, rest.get((), 0) // divisor, 1)
    nested = [m for m, c in rest.items() if c == 1 and len(m) == 1 and isinstance(m[0], _FloorDiv)]
    if len(nested) == 1:
        # floor((floor(A/a) + P)/d) == floor((A + a*P)/(a*d)) for integer-valued P.
        inner = nested[0][0]
        assert isinstance(inner, _FloorDiv)
        remainder = _fold({m: c for m, c in rest.items() if m != nested[0]})
        numerator = _add(inner.numerator, _mul(remainder, inner.divisor), 1)
        return _add(quotient, floordiv(numerator, inner.divisor * divisor), 1)
    factor = _FloorDiv(Expr._make(rest), divisor)
    return _add(quotient, Expr._make({(factor,): 1}), 1)


def ceildiv(value: Dim, divisor: int) -> Dim:
    """``ceil(value / divisor)`` for a positive divisor, as a floor division.

    >>> ceildiv(sym("W"), 2)
    Expr('(W + 1)//2')
    """
    return floordiv(_add(value, divisor - 1, 1), divisor)


# --------------------------------------------------------------------------- evaluation
def evaluate(value: Dim, env: Mapping[str, int]) -> int:
    """The integer value of ``value`` with every name taken from ``env``."""
    if isinstance(value, int):
        return value
    total = 0
    for monomial, coefficient in value.terms:
        product = coefficient
        for factor in monomial:
            product *= factor.value(env)
        total += product
    return total


def substitute(value: Dim, env: Mapping[str, Dim]) -> Dim:
    """Replace the names in ``env`` by their values and fold again.

    >>> substitute(parse_dim("(W - 3)//2 + 1"), {"W": 9})
    4
    """
    if isinstance(value, int):
        return value
    total: Dim = 0
    for monomial, coefficient in value.terms:
        product: Dim = coefficient
        for factor in monomial:
            product = _mul(product, _substitute_factor(factor, env))
        total = _add(total, product, 1)
    return total


def _substitute_factor(factor: _Factor, env: Mapping[str, Dim]) -> Dim:
    if isinstance(factor, _Name):
        return env.get(factor.name, Expr._make({(factor,): 1}))
    if isinstance(factor, _FloorDiv):
        return floordiv(substitute(factor.numerator, env), factor.divisor)
    assert isinstance(factor, _Paren)
    return substitute(factor.inner, env)


def never_positive(value: Dim) -> bool:
    """True when ``value`` is below 1 for every choice of sizes >= 1, so it cannot be a size.

    Sound but not complete: an expression decreasing in every name peaks with every
    name at 1; anything with a floor division or a rising term is given the benefit.

    >>> never_positive(parse_dim("-W")), never_positive(parse_dim("1 - H*W")), never_positive(0)
    (True, True, True)
    >>> never_positive(parse_dim("W - 2")), never_positive(parse_dim("5 - W"))
    (False, False)
    """
    if isinstance(value, int):
        return value < 1
    for monomial, coefficient in value.terms:
        if monomial and (coefficient > 0 or not all(isinstance(f, _Name) for f in monomial)):
            return False
    return evaluate(value, dict.fromkeys(value.names(), 1)) < 1


def product(shape: Iterable[Dim]) -> Dim:
    """The element count of ``shape``, folded.

    >>> product((sym("batch"), 4, 8))
    Expr('batch*32')
    """
    total: Dim = 1
    for size in shape:
        total = total * size
    return total


def names_in(values: Iterable[Dim]) -> set[str]:
    """The names the sizes ``values`` use.

    >>> sorted(names_in([sym("W") - 2, 3, sym("batch")]))
    ['W', 'batch']
    """
    found: set[str] = set()
    for value in values:
        if isinstance(value, Expr):
            found |= value.names()
    return found


def format_shape(shape: Iterable[Dim]) -> str:
    """``(batch, 32)``; a one-dimensional shape keeps Python's trailing comma ``(128,)``."""
    items = [str(d) for d in shape]
    if len(items) == 1:
        return f"({items[0]},)"
    return "(" + ", ".join(items) + ")"


def to_json(value: Dim) -> int | str:
    """A dimension as JSON: the int itself, or the expression's canonical text."""
    return value if isinstance(value, int) else str(value)


# --------------------------------------------------------------------------- parsing
#: A literal, a name or an operator.
_TOKEN = r"\s*(?:(?P<int>[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>//|[-+*()]))"
#: A decimal or exponent number (``2.5``, ``1e3``): refused as "not a whole number".
_DECIMAL = r"\s*[-+]?(?=\.?[0-9])(?:[0-9]*\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)\s*"
#: Most sizes are a bare number or name: those skip the tokenizer (and its patterns, compiled
#: on first use). Longer numbers and names take the parser, which says what is wrong with them.
_SHORT_NUMBER = 19


@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def parse_dim(text: str) -> Dim:
    """Parse an integer or an expression such as ``H - 2`` or ``(W + 1)//2``.

    Raises :class:`ShapecalcError` naming what is wrong for anything else.
    """
    if not isinstance(text, str):
        raise ShapecalcError(f"expected text, got {shown(text)}")
    if text.isascii():
        if text.isdigit() and len(text) <= _SHORT_NUMBER:
            return _checked(int(text))
        if text.isidentifier() and len(text) <= MAX_NAME_LENGTH and not keyword.iskeyword(text):
            return sym(text)
    if _pattern(_DECIMAL).fullmatch(text):
        raise ShapecalcError(f"{shown(text)} is not a whole number")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ShapecalcError(
            f"expression is too long ({len(text)} characters, at most {MAX_EXPRESSION_LENGTH})"
        )
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.position = 0
        self.depth = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        index = 0
        stripped_end = len(text.rstrip())
        while index < stripped_end:
            match = _pattern(_TOKEN).match(text, index)
            if not match:
                bad = text[index:].lstrip()[:1]
                raise ShapecalcError(f"unexpected {bad!r} in expression {shown(text)}")
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            index = match.end()
        if not tokens:
            raise ShapecalcError("empty expression")
        return tokens

    def _peek(self) -> str | None:
        if self.position < len(self.tokens):
            return self.tokens[self.position][1]
        return None

    def _fail(self, what: str) -> ShapecalcError:
        return ShapecalcError(f"{what} in expression {shown(self.text)}")

    def parse(self) -> Dim:
        value = self._sum()
        if self.position != len(self.tokens):
            raise self._fail(f"unexpected {shown(self.tokens[self.position][1])}")
        return value

    def _sum(self) -> Dim:
        value = self._product()
        while self._peek() in ("+", "-"):
            operator = self.tokens[self.position][1]
            self.position += 1
            right = self._product()
            value = _add(value, right, 1 if operator == "+" else -1)
        return value

    def _product(self) -> Dim:
        value = self._unary()
        while self._peek() in ("*", "//"):
            operator = self.tokens[self.position][1]
            self.position += 1
            right = self._unary()
            if operator == "*":
                value = _mul(value, right)
            elif isinstance(right, int):
                if right == 0:
                    raise self._fail("division by zero")
                value = floordiv(value, right)
            else:
                raise self._fail(f"can only divide by an integer constant, not by {right}")
        return value

    def _unary(self) -> Dim:
        operator = self._peek()
        if operator in ("-", "+"):
            self.position += 1
            self._enter()
            operand = self._unary()
            self.depth -= 1
            return _scale(operand, -1) if operator == "-" else operand
        return self._atom()

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self._fail(f"nesting deeper than {MAX_NESTING}")

    def _atom(self) -> Dim:
        if self.position >= len(self.tokens):
            raise self._fail("unexpected end")
        kind, token = self.tokens[self.position]
        self.position += 1
        if kind == "int":
            if len(token) > 19:
                raise self._fail(f"number {token[:20]}... is too large")
            return _checked(int(token))
        if kind == "name":
            if keyword.iskeyword(token):
                raise self._fail(f"{token!r} is a reserved word")
            return sym(token)
        if token == "(":
            self._enter()
            value = self._sum()
            self.depth -= 1
            if self._peek() != ")":
                raise self._fail("missing ')'")
            self.position += 1
            return value
        raise self._fail(f"unexpected {token!r}")
