"""The pure rules on their own: field shapes, parameter schemas, and who sees and changes a definition."""

from __future__ import annotations

import pytest

from services.factor.tests.unit.definitions.records import definition
from zquant_factor.domain.definitions import fields, ownership
from zquant_factor.domain.definitions.params import ParamSpec, ParamType, check_params
from zquant_factor.domain.definitions.records import Visibility
from zquant_kit.errors import InvalidArgument

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("code", ["600000.sh", " 000001.SZ ", "430047.bj"])
def test_a_ts_code_is_normalised(code):
    assert fields.check_ts_code(code) == code.strip().upper()


@pytest.mark.parametrize(
    "code", ["", "600000", "60000.SH", "600000.HK", "6000001.SH", "abcdef.SZ", "600000.SH\x00"]
)
def test_a_malformed_ts_code_names_its_field(code):
    with pytest.raises(InvalidArgument) as raised:
        fields.check_ts_code(code, "codes[2]")
    assert raised.value.field == "codes[2]"


def test_unbounded_params_and_every_violation_at_once():
    schema = [ParamSpec("n", ParamType.INT, 1, None, 5), ParamSpec("x", ParamType.FLOAT, None, 0.0, -1.0)]
    assert check_params(schema, {"n": 10**9, "x": -1e300}) == {"n": 10**9, "x": -1e300}
    with pytest.raises(InvalidArgument) as raised:
        check_params(schema, {"n": 0, "x": 0.5, "y": 1}, field="model.params")
    assert raised.value.violations == (
        ("model.params.y", "unknown parameter"),
        ("model.params.n", "must be from 1 to inf"),
        ("model.params.x", "must be from -inf to 0.0"),
    )


def test_a_bad_default_in_a_schema_is_caught_not_stored():
    with pytest.raises(InvalidArgument) as raised:
        check_params([ParamSpec("n", ParamType.INT, 1, 10, 0)], {})
    assert raised.value.field == "params.n"


@pytest.mark.parametrize(
    ("owner", "visibility", "deleted", "sees", "changes"),
    [
        (None, Visibility.SHARED, False, True, False),
        ("bob", Visibility.PRIVATE, False, True, True),
        ("alice", Visibility.PRIVATE, False, False, False),
        ("alice", Visibility.SHARED, False, True, False),
        ("bob", Visibility.SHARED, True, True, False),
    ],
)
def test_who_sees_and_changes_a_definition(owner, visibility, deleted, sees, changes):
    record = definition(owner_id=owner, visibility=visibility, owner_deleted=deleted)
    assert ownership.can_see(record, "bob") is sees
    assert ownership.can_change(record, "bob", admin=False) is changes
    assert ownership.can_delete(record, "bob", admin=True)
    assert ownership.can_change(record, "bob", admin=True) is (changes or owner is None)
