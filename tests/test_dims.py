"""Symbolic dimensions: known-true tables, then properties over random expressions.

Every property compares the engine with an independent reference: the same
arithmetic done on plain Python ints, or the printed text read back by
Python's own parser (``ast``, walked by a tiny evaluator; nothing is eval'd).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shapecalc.dims import (
    MAX_EXPRESSION_LENGTH,
    MAX_NESTING,
    Dim,
    Expr,
    ceildiv,
    evaluate,
    floordiv,
    format_shape,
    never_positive,
    parse_dim,
    substitute,
    sym,
    to_json,
)
from shapecalc.errors import ShapecalcError
from shapecalc.geometry import conv_output_length

W, H = sym("W"), sym("H")


# --------------------------------------------------------------------------- known-true tables
@pytest.mark.parametrize(
    ("build", "printed"),
    [
        # The examples.
        (lambda: conv_output_length(W, kernel=3), "W - 2"),
        (lambda: conv_output_length(H, kernel=3), "H - 2"),
        (lambda: conv_output_length(W, kernel=3, stride=2), "(W - 3)//2 + 1"),
        (lambda: conv_output_length(W, kernel=3, stride=2, padding="same"), "(W + 1)//2"),
        (lambda: floordiv(floordiv(sym("x"), 2), 3), "x//6"),
        # Constants combine; like terms collect; products order their factors.
        (lambda: W + 1 + 2, "W + 3"),
        (lambda: 2 * W * 3, "W*6"),
        (lambda: W + W, "W*2"),
        (lambda: W * H * sym("batch") * sym("timestep"), "batch*timestep*H*W"),
        (lambda: W - 3 - W + H, "H - 3"),
        (lambda: (W + 1) * H, "H*(W + 1)"),
        (lambda: (2 * W + 2) * H, "H*(W + 1)*2"),
        (lambda: -(W + 1) * H, "-H*(W + 1)"),
        # Floor division: exact parts come out, nested divisions merge.
        (lambda: floordiv(2 * W + 3, 2), "W + 1"),
        (lambda: floordiv(4 * W + 2, 6), "(W*2 + 1)//3"),
        (lambda: floordiv(floordiv(W - 3, 2) + 1 - 3, 2) + 1, "(W - 7)//4 + 1"),
        (lambda: floordiv(W, 1), "W"),
        (lambda: floordiv(W, -2), "(-W)//2"),
        (lambda: ceildiv(W, 3), "(W + 2)//3"),
        (lambda: floordiv(W, 2) * 3, "(W//2)*3"),
        # A leading minus must not swallow a floor division: -W//2 is (-W)//2 in Python.
        (lambda: -floordiv(W, 2), "-(W//2)"),
        (lambda: 3 - floordiv(W, 2), "-(W//2) + 3"),
        (lambda: H - floordiv(W, 2), "H - W//2"),
        # Strided, dilated and chained convolutions.
        (lambda: conv_output_length(W, kernel=3, dilation=2), "W - 4"),
        (lambda: conv_output_length(W, kernel=5, stride=3), "(W - 5)//3 + 1"),
        (lambda: conv_output_length(W, kernel=3, stride=3, padding="same"), "(W + 2)//3"),
        (lambda: conv_output_length(W, kernel=sym("K")), "W - K + 1"),
    ],
)
def test_expressions_print_canonically(build: Callable[[], Dim], printed: str) -> None:
    value = build()
    assert str(value) == printed
    assert parse_dim(printed) == value


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("W-2", "W - 2"),
        ("  W  -  2 ", "W - 2"),
        ("(x//2)//3", "x//6"),
        ("((W - 3)//2 + 1 - 3)//2 + 1", "(W - 7)//4 + 1"),
        ("2*W + W", "W*3"),
        ("W*H - H*W", "0"),
        ("-(-W)", "W"),
        ("+W", "W"),
        ("(W + 1)//2*2", "((W + 1)//2)*2"),
        ("3 + 4*5", "23"),
        ("17//5", "3"),
        ("-7//2", "-4"),
        ("timestep*batch", "batch*timestep"),
    ],
)
def test_parse_gives_the_canonical_form(text: str, canonical: str) -> None:
    assert str(parse_dim(text)) == canonical


@pytest.mark.parametrize(
    ("text", "env", "value"),
    [
        ("W - 2", {"W": 128}, 126),
        ("(W - 3)//2 + 1", {"W": 128}, 63),
        ("(W - 3)//2 + 1", {"W": 3}, 1),
        ("(W + 1)//2", {"W": 127}, 64),
        ("batch*timestep*6656", {"batch": 2, "timestep": 3}, 39936),
        ("-(W//2)", {"W": 5}, -2),
        ("(-W)//2", {"W": 5}, -3),
    ],
)
def test_evaluate_known_values(text: str, env: dict[str, int], value: int) -> None:
    assert evaluate(parse_dim(text), env) == value
    assert substitute(parse_dim(text), env) == value


def test_constants_fold_to_plain_ints() -> None:
    assert parse_dim("128") == 128
    assert type(parse_dim("2*3 + 1")) is int
    assert type(W - W) is int
    assert substitute(parse_dim("(W - 3)//2 + 1"), {"W": 9}) == 4


def test_partial_substitution_keeps_the_rest_symbolic() -> None:
    assert str(substitute(parse_dim("(W - 3)//2 + H"), {"W": 9})) == "H + 3"
    assert str(substitute(parse_dim("H*W"), {"W": parse_dim("K + 1")})) == "H*(K + 1)"


def test_shapes_and_json() -> None:
    assert format_shape((sym("batch"), W - 2, 8)) == "(batch, W - 2, 8)"
    assert format_shape((128,)) == "(128,)"
    assert [to_json(d) for d in (sym("batch"), W - 2, 8)] == ["batch", "W - 2", 8]


def test_expr_is_hashable_and_compares_by_value() -> None:
    assert {parse_dim("W + 1"), W + 1} == {W + 1}
    assert W + 1 != W + 2
    assert W != "W"


def test_missing_name_is_a_clear_error() -> None:
    with pytest.raises(ShapecalcError, match="no value for dimension 'H'"):
        evaluate(W + H, {"W": 1})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("((", "unexpected end"),
        ("(W", "missing ')'"),
        ("W)", "unexpected ')'"),
        ("H//0", "division by zero"),
        ("H//(2 - 2)", "division by zero"),
        ("H//W", "can only divide by an integer constant"),
        ("__import__('os')", 'unexpected "\'"'),
        ("__import__('os').system('true')", 'unexpected "\'"'),
        ("W/2", "unexpected '/'"),
        ("2**3", "unexpected '*'"),
        ("W % 2", "unexpected '%'"),
        ("W.real", "unexpected '.'"),
        ("1e3", "'1e3' is not a whole number"),
        ("2.5", "'2.5' is not a whole number"),
        (" -0.5 ", "' -0.5 ' is not a whole number"),
        ("0x10", "unexpected 'x10'"),
        ("W; 1", "unexpected ';'"),
        ("W +", "unexpected end"),
        ("W H", "unexpected 'H'"),
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("lambda", "'lambda' is a reserved word"),
        ("if", "'if' is a reserved word"),
        ("not W", "'not' is a reserved word"),
        ("None", "'None' is a reserved word"),
        ("W²", "unexpected '²'"),
        ("12345678901234567890123", "is too large"),
        ("(" * (MAX_NESTING + 1) + "W" + ")" * (MAX_NESTING + 1), "nesting deeper than"),
        ("-" * (MAX_NESTING + 1) + "W", "nesting deeper than"),
        ("W + " * MAX_EXPRESSION_LENGTH + "W", "expression is too long"),
    ],
)
def test_malformed_expressions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ShapecalcError) as caught:
        parse_dim(text)
    assert message in str(caught.value)


@pytest.mark.parametrize("name", ["W", "batch", "_x", "H2", "conv_kernel_x"])
def test_valid_names(name: str) -> None:
    assert str(sym(name)) == name


@pytest.mark.parametrize("name", ["", "2W", "W-1", "class", "a b", "W²"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ShapecalcError, match="not a valid dimension name"):
        sym(name)


@pytest.mark.parametrize(
    ("text", "never"),
    [
        ("-W", True),
        ("0", True),
        ("1 - W", True),
        ("1 - H*W", True),
        ("-W - H", True),
        ("W", False),
        ("W - 2", False),
        ("5 - W", False),
        ("-(W//2) + 1", False),  # a floor division is given the benefit of the doubt
    ],
)
def test_never_positive(text: str, never: bool) -> None:
    assert never_positive(parse_dim(text)) is never


def test_division_by_a_symbol_is_refused() -> None:
    with pytest.raises(ShapecalcError, match="integer constant"):
        W // H
    with pytest.raises(ShapecalcError, match="integer constant"):
        12 // W


# --------------------------------------------------------------------------- properties
NAMES = ("W", "H", "D", "batch", "timestep")

#: A random expression together with the same computation on plain ints.
Built = tuple[Dim, Callable[[Mapping[str, int]], int]]


def _leaf() -> st.SearchStrategy[Built]:
    names = st.sampled_from(NAMES).map(lambda n: (sym(n), lambda env, n=n: env[n]))
    ints = st.integers(-6, 9).map(lambda k: (k, lambda env, k=k: k))
    return st.one_of(names, ints)


def _combine(children: st.SearchStrategy[Built]) -> st.SearchStrategy[Built]:
    def binary(op: Callable[[int, int], int]) -> st.SearchStrategy[Built]:
        return st.tuples(children, children).map(
            lambda pair: (op(pair[0][0], pair[1][0]), lambda env: op(pair[0][1](env), pair[1][1](env)))
        )

    def divided(pair: tuple[Built, int]) -> Built:
        (dim, ref), divisor = pair
        return floordiv(dim, divisor), lambda env: ref(env) // divisor

    def convolved(args: tuple[Built, int, int, str, int]) -> Built:
        (dim, ref), kernel, stride, padding, dilation = args
        if stride > 1 and padding == "valid":
            dilation = 1

        def plain(env: Mapping[str, int]) -> int:
            length = ref(env)
            if padding == "same":
                return -(-length // stride)
            return (length - dilation * (kernel - 1) - 1) // stride + 1

        return conv_output_length(dim, kernel, stride, padding, dilation), plain

    return st.one_of(
        binary(operator.add),
        binary(operator.sub),
        binary(operator.mul),
        st.tuples(children, st.integers(-5, 7).filter(bool)).map(divided),
        st.tuples(
            children,
            st.integers(1, 5),
            st.integers(1, 4),
            st.sampled_from(["valid", "same"]),
            st.integers(1, 3),
        ).map(convolved),
    )


expressions = st.recursive(_leaf(), _combine, max_leaves=10)
environments = st.fixed_dictionaries({name: st.integers(1, 300) for name in NAMES})
PROPERTY = settings(max_examples=300, deadline=None)


def _python_value(text: str, env: Mapping[str, int]) -> int:
    """``text`` read by Python's parser and evaluated with Python's integer operators."""
    operators: dict[type, Callable[[int, int], int]] = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv,
    }

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = walk(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        raise AssertionError(f"not an integer expression: {ast.dump(node)}")

    return walk(ast.parse(text, mode="eval"))


@PROPERTY
@given(expressions, environments)
def test_folding_never_changes_the_value(built: Built, env: dict[str, int]) -> None:
    dim, plain = built
    assert evaluate(dim, env) == plain(env)


@PROPERTY
@given(expressions)
def test_printing_then_parsing_gives_the_same_expression(built: Built) -> None:
    dim, _ = built
    text = str(dim)
    again = parse_dim(text)
    assert again == dim
    assert str(again) == text
    assert hash(again) == hash(dim)


@PROPERTY
@given(expressions, environments)
def test_printed_form_is_a_python_expression_with_the_same_value(built: Built, env: dict[str, int]) -> None:
    dim, plain = built
    assert _python_value(str(dim), env) == plain(env)


@PROPERTY
@given(expressions, environments, st.sets(st.sampled_from(NAMES)))
def test_substitute_then_evaluate_equals_evaluate(built: Built, env: dict[str, int], bound: set[str]) -> None:
    dim, _ = built
    partial = substitute(dim, {name: env[name] for name in bound})
    assert evaluate(partial, env) == evaluate(dim, env)
    assert substitute(dim, env) == evaluate(dim, env)
    if isinstance(partial, Expr):
        assert partial.names() <= set(NAMES) - bound
        assert parse_dim(str(partial)) == partial


@PROPERTY
@given(expressions)
def test_substituting_nothing_is_the_identity(built: Built) -> None:
    dim, _ = built
    assert substitute(dim, {}) == dim


@PROPERTY
@given(expressions, expressions, environments)
def test_substituting_an_expression_for_a_name(built: Built, replacement: Built, env: dict[str, int]) -> None:
    (dim, _), (value, _) = built, replacement
    inner = evaluate(value, env)
    assert evaluate(substitute(dim, {"W": value}), env) == evaluate(dim, {**env, "W": inner})


@PROPERTY
@given(
    st.integers(1, 400),
    st.integers(1, 7),
    st.integers(1, 4),
    st.sampled_from(["valid", "same"]),
    st.integers(1, 3),
)
def test_symbolic_convolution_matches_numeric(
    length: int, kernel: int, stride: int, padding: str, dilation: int
) -> None:
    symbolic = conv_output_length(W, kernel, stride, padding, dilation)
    numeric = conv_output_length(length, kernel, stride, padding, dilation)
    assert substitute(symbolic, {"W": length}) == numeric


@PROPERTY
@given(expressions, st.integers(1, 9), environments)
def test_ceildiv_is_the_ceiling(built: Built, divisor: int, env: dict[str, int]) -> None:
    dim, plain = built
    assert evaluate(ceildiv(dim, divisor), env) == -(-plain(env) // divisor)


@PROPERTY
@given(st.sampled_from(NAMES), st.integers(1, 9), st.integers(1, 9))
def test_nested_floor_divisions_merge(name: str, a: int, b: int) -> None:
    x = sym(name)
    assert floordiv(floordiv(x, a), b) == floordiv(x, a * b)
    assert parse_dim(f"({name}//{a})//{b}") == parse_dim(f"{name}//{a * b}")


@PROPERTY
@given(expressions, st.integers(1, 9), st.integers(1, 9), environments)
def test_nested_floor_divisions_keep_their_value(built: Built, a: int, b: int, env: dict[str, int]) -> None:
    dim, plain = built
    assert evaluate(floordiv(floordiv(dim, a), b), env) == plain(env) // (a * b)


@PROPERTY
@given(expressions, environments)
def test_never_positive_is_sound(built: Built, env: dict[str, int]) -> None:
    dim, plain = built
    if never_positive(dim):
        assert plain(env) < 1
