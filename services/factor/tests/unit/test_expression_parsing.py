"""Custom expressions: what parses into a checked tree, what it reports (warm-up, fields, canonical text)."""

from __future__ import annotations

import pytest

from zquant_factor.domain.expressions import FUNCTIONS, CheckedExpression, ExpressionError
from zquant_factor.domain.expressions.tree import Binary, Call, Constant, FieldRef, Negate

pytestmark = pytest.mark.unit


def test_the_issue_examples_parse_into_checked_trees() -> None:
    ranked = CheckedExpression.parse("rank(close / ma(close, 20))")
    assert ranked.root == Call(
        FUNCTIONS["rank"],
        (Binary("/", FieldRef("close"), Call(FUNCTIONS["ma"], (FieldRef("close"),), 20)),),
        None,
    )
    corr = CheckedExpression.parse("ts_corr(close, vol, 10)")
    assert corr.root == Call(FUNCTIONS["ts_corr"], (FieldRef("close"), FieldRef("vol")), 10)


@pytest.mark.parametrize(
    ("source", "lookback"),
    [
        ("close", 0),
        ("ref(close, 1)", 1),
        ("delta(close, 5)", 5),
        ("ma(close, 20)", 19),
        ("rank(close / ma(close, 20))", 19),
        ("ts_corr(close, vol, 10)", 9),
        ("ma(ref(close, 3), 5)", 7),
        ("std(delta(close, 1), 20) + ma(vol, 60)", 59),
        ("ts_rank(ts_corr(ma(close, 5), vol, 10), 3)", 4 + 9 + 2),
        ("where(close > ref(close, 2), ma(vol, 3), -vol)", 2),
    ],
)
def test_lookback_adds_up_along_nested_windows_and_takes_the_max_across_branches(
    source: str, lookback: int
) -> None:
    assert CheckedExpression.parse(source).lookback == lookback


def test_required_fields_are_exactly_the_names_used() -> None:
    expr = CheckedExpression.parse("ts_corr(close, vol, 10) * zscore(turnover_rate) - pre_close")
    assert expr.fields == {"close", "vol", "turnover_rate", "pre_close"}


def test_only_an_ema_makes_an_expression_recursive() -> None:
    assert CheckedExpression.parse("ma(ema(close, 12), 3)").recursive
    assert not CheckedExpression.parse("ma(close, 12) + std(close, 3)").recursive


def test_canonical_text_ignores_spacing_brackets_int_vs_float_and_unary_plus() -> None:
    variants = [
        "rank(close/ma(close,20))",
        "  rank( ( close ) / ma(close , 20) )",
        "rank(+close / ma(close, 20))",
        "rank(close\n/\tma(close, 20))",
    ]
    canon = {CheckedExpression.parse(source).canonical for source in variants}
    assert canon == {"rank((close/ma(close,20)))"}
    assert CheckedExpression.parse("close * 2").canonical == CheckedExpression.parse("close*2.0").canonical
    assert (
        CheckedExpression.parse("close * 2").fingerprint
        == CheckedExpression.parse("(close)*(2.0)").fingerprint
    )


def test_canonical_text_keeps_meaning_apart_and_parses_back_to_itself() -> None:
    sources = [
        "close - open - vol",
        "close - (open - vol)",
        "-close * 2",
        "-(close * 2)",
        "close / -1",
        "where(close >= open, 1, -1) + abs(log(vol))",
        "ts_rank(ref(close, 2), 5) != sign(delta(close, 1))",
    ]
    exprs = [CheckedExpression.parse(source) for source in sources]
    assert len({expr.canonical for expr in exprs}) == len(sources)
    for expr in exprs:
        again = CheckedExpression.parse(expr.canonical)
        assert again.root == expr.root
        assert again.canonical == expr.canonical


def test_minus_constant_is_a_negate_around_a_positive_constant() -> None:
    assert CheckedExpression.parse("close * -1.5").root == Binary(
        "*", FieldRef("close"), Negate(Constant(1.5))
    )


def test_every_registered_function_parses_with_its_usage() -> None:
    for name, signature in FUNCTIONS.items():
        args = ["close", "vol", "open"][: len(signature.params)]
        if signature.arity > len(signature.params):
            args.append("5")
        expr = CheckedExpression.parse(f"{name}({', '.join(args)})")
        assert isinstance(expr.root, Call)
        assert expr.root.function is signature


def _refusal(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        CheckedExpression.parse(source)
    return caught.value


def test_look_ahead_by_a_negative_lag_is_refused_pointing_at_the_call() -> None:
    error = _refusal("ref(close, -1)")
    assert error.description == "look-ahead: ref(close, -1) at column 0 shifts by a negative lag"
    assert (error.column, error.fragment, error.field) == (0, "ref(close, -1)", "expression")


def test_look_ahead_inside_a_larger_expression_points_at_its_own_column() -> None:
    error = _refusal("rank(close) + delta(vol, -3)")
    assert error.description == "look-ahead: delta(vol, -3) at column 14 shifts by a negative lag"
    assert error.column == 14
    window = _refusal("  ma(close, -20)")
    assert window.description == "look-ahead: ma(close, -20) at column 2 has a negative window"


def test_the_error_is_an_invalid_argument_on_the_expression_field() -> None:
    from zquant_kit.errors import InvalidArgument

    error = _refusal("ref(close, -1)")
    assert isinstance(error, InvalidArgument)
    assert error.violations == (("expression", error.description),)
