"""Custom expressions a client must not get through: anything outside the allow-list, limits, bad windows.

Each refusal is an ExpressionError whose message names the problem and quotes the offending fragment.
"""

from __future__ import annotations

import pytest

from zquant_factor.domain.expressions import CheckedExpression, ExpressionError, limits

pytestmark = pytest.mark.unit

ADVERSARIAL = [
    # (source, words the message must contain, fragment quoted)
    ("close.__class__", "attribute access", "close.__class__"),
    (
        "close.__class__.__bases__[0].__subclasses__()",
        "not a function name",
        "close.__class__.__bases__[0].__subclasses__",
    ),
    ("close[0]", "subscript", "close[0]"),
    ("close[::-1]", "subscript", "close[::-1]"),
    ("(lambda: 1)()", "not a function name", "lambda: 1"),
    ("lambda x: x", "lambda", "lambda x: x"),
    ("[c for c in close]", "comprehension", "[c for c in close]"),
    ("{c: 1 for c in close}", "comprehension", "{c: 1 for c in close}"),
    ("rank(c for c in close)", "comprehension", "(c for c in close)"),
    ("f'{close}'", "f-string", "f'{close}'"),
    ("'close'", "not a number", "'close'"),
    ("b'x'", "not a number", "b'x'"),
    ("__import__('os').system('id')", "not a function name", "__import__('os').system"),
    ("__import__('os')", "unknown function", "__import__"),
    ("open('/etc/passwd')", "unknown function", "open"),
    ("eval('1')", "unknown function", "eval"),
    ("getattr(close, 'x')", "unknown function", "getattr"),
    ("globals", "unknown name", "globals"),
    ("__builtins__", "unknown name", "__builtins__"),
    ("foo + close", "unknown name", "foo"),
    ("ma + close", "is a function; call it as ma(x, n)", "ma"),
    ("close(1)", "is a field, not a function", "close"),
    ("ma(close, n=20)", "keyword arguments", "ma(close, n=20)"),
    ("rank(*close)", "starred argument", "*close"),
    ("rank(**close)", "keyword arguments", "rank(**close)"),
    ("close if open else vol", "conditional expression", "close if open else vol"),
    ("close and open", "boolean operator", "close and open"),
    ("not close", "operator that is not accepted", "not close"),
    ("~close", "operator that is not accepted", "~close"),
    ("close ** 2", "operator that is not accepted", "close ** 2"),
    ("close % 2", "operator that is not accepted", "close % 2"),
    ("close // 2", "operator that is not accepted", "close // 2"),
    ("close @ open", "operator that is not accepted", "close @ open"),
    ("close << 2", "operator that is not accepted", "close << 2"),
    ("open < close < high", "operator that is not accepted", "open < close < high"),
    ("close in open", "operator that is not accepted", "close in open"),
    ("close is open", "operator that is not accepted", "close is open"),
    ("(x := close)", "assignment", "x := close"),
    ("(close, open)", "tuple", "(close, open)"),
    ("[close]", "list", "[close]"),
    ("{close}", "set", "{close}"),
    ("{'a': close}", "dict", "{'a': close}"),
    ("close * True", "not a number", "True"),
    ("close * None", "not a number", "None"),
    ("close * 1j", "not a number", "1j"),
    ("close * ...", "not a number", "..."),
    ("close * 1e999", "constant too large", "1e999"),
    ("close * 10000000000000", "constant too large", "10000000000000"),
    ("close + " + "9" * 70, "constant too large", "9" * 70),
]


@pytest.mark.parametrize(
    ("source", "words", "fragment"), ADVERSARIAL, ids=[case[0][:40] for case in ADVERSARIAL]
)
def test_adversarial_input_is_refused_naming_the_offending_fragment(
    source: str, words: str, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        CheckedExpression.parse(source)
    error = caught.value
    assert words in error.description
    assert error.fragment == fragment
    assert source[error.column :].startswith(fragment)
    assert f"{fragment} at column {error.column}" in error.description


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("ma(close)", "takes 2 (ma(x, n)), got 1"),
        ("ma(close, 5, 6)", "takes 2 (ma(x, n)), got 3"),
        ("rank(close, 5)", "takes 1 (rank(x)), got 2"),
        ("ts_corr(close, 10)", "takes 3 (ts_corr(x, y, n)), got 2"),
        ("where(close, open)", "takes 3 (where(condition, if_true, if_false)), got 2"),
        ("ma(close, 0)", "needs n from 1 to 1000, got 0"),
        ("ma(close, 1001)", "needs n from 1 to 1000, got 1001"),
        ("ref(close, 0)", "needs n from 1 to 1000, got 0"),
        ("std(close, 1)", "needs n from 2 to 1000, got 1"),
        ("ts_corr(close, vol, 1)", "needs n from 2 to 1000, got 1"),
        ("ma(close, 2.5)", "needs n as an integer constant"),
        ("ma(close, 20.0)", "needs n as an integer constant"),
        ("ma(close, True)", "needs n as an integer constant"),
        ("ma(close, vol)", "needs n as an integer constant"),
        ("ma(close, 10 + 10)", "needs n as an integer constant"),
        ("ma(close, --5)", "needs n as an integer constant"),
        ("ma(close, '5')", "needs n as an integer constant"),
    ],
)
def test_arity_and_window_arguments_are_checked_per_function(source: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        CheckedExpression.parse(source)
    assert words in caught.value.description
    assert caught.value.column == 0


def test_a_long_fragment_is_clipped_in_the_message_but_kept_whole_on_the_error() -> None:
    digits = "9" * 1500
    with pytest.raises(ExpressionError) as caught:
        CheckedExpression.parse(f"close + {digits}")
    assert caught.value.fragment == digits
    assert f"{digits[:79]}… at column 8" in caught.value.description
    assert len(caught.value.description) < 200


def test_an_expression_must_use_a_field() -> None:
    with pytest.raises(ExpressionError, match="no field"):
        CheckedExpression.parse("1 + 2")


@pytest.mark.parametrize("source", ["", "   ", "\n\t"])
def test_empty_input_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError, match="empty"):
        CheckedExpression.parse(source)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("ma(close, 20", "syntax error"),
        ("close +", "syntax error"),
        ("close = 1", "syntax error"),
        ("import os", "syntax error"),
        ("close; open", "syntax error"),
        ("close\x00", "bad character"),
        ("close + ∆", "bad character"),
        ("收盘价", "bad character"),
        ("close\x0c", "bad character"),
    ],
)
def test_malformed_text_is_refused_as_a_syntax_or_character_error(source: str, words: str) -> None:
    with pytest.raises(ExpressionError, match=words):
        CheckedExpression.parse(source)


def test_ten_thousand_characters_are_refused_before_parsing() -> None:
    source = "+".join(["close"] * 1667)
    assert len(source) > 10_000 - 5
    with pytest.raises(
        ExpressionError, match=f"too long: {len(source)} characters, at most {limits.MAX_LENGTH}"
    ):
        CheckedExpression.parse(source)


@pytest.mark.parametrize(
    "source",
    [
        "rank(" * 40 + "close" + ")" * 40,
        "-" * 1990 + "close",
        "close" + "+1" * 900,
        "(" * 300 + "close" + ")" * 300,
        "abs(" * 300 + "close" + ")" * 300,
    ],
    ids=["nested-calls", "unary-chain", "long-sum", "parentheses", "deep-calls"],
)
def test_deep_nesting_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError, match=r"too deep|too complex|syntax error"):
        CheckedExpression.parse(source)


def _balanced(depth: int) -> str:
    return "vol" if depth == 0 else f"({_balanced(depth - 1)}+{_balanced(depth - 1)})"


def test_too_many_nodes_is_refused_even_when_shallow() -> None:
    source = _balanced(8)
    assert len(source) < limits.MAX_LENGTH
    with pytest.raises(ExpressionError, match=f"too large: .* is past the limit of {limits.MAX_NODES} nodes"):
        CheckedExpression.parse(source)
    assert CheckedExpression.parse(_balanced(7)).fields == {"vol"}


def test_nested_windows_past_the_lookback_bound_are_refused() -> None:
    source = "ma(" * 6 + "close" + ", 1000)" * 6
    with pytest.raises(ExpressionError, match="look-back too long") as caught:
        CheckedExpression.parse(source)
    assert caught.value.column == 0
    assert CheckedExpression.parse("ma(" * 5 + "close" + ", 1000)" * 5).lookback == 4995
