"""`Settings.number`: the one parser of numeric settings every bootstrap uses; a bad value names its variable."""

import pytest

from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def test_a_number_in_range_or_its_default() -> None:
    settings = Settings({"ZQ_X": "2.5"})
    assert settings.number("ZQ_X", "1", 0, 10) == 2.5
    assert settings.number("ZQ_MISSING", "7", 0) == 7.0


@pytest.mark.parametrize("raw", ["abc", "-1", "11", "nan"])
def test_a_bad_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="ZQ_X"):
        Settings({"ZQ_X": raw}).number("ZQ_X", "1", 0, 10)


def test_a_flag_is_yes_for_1_true_yes_on_in_any_case_and_no_when_unset() -> None:
    settings = Settings({"A": " TRUE ", "B": "on", "C": "0", "D": "no"})
    assert [settings.flag(name) for name in ("A", "B", "C", "D", "UNSET")] == [True, True, False, False, False]
