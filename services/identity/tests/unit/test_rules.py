"""domain/rules.py: input validation, the permission catalogue and seeded roles; plus permission checks."""

from __future__ import annotations

import pytest

from zquant_identity.domain import rules
from zquant_kit.errors import InvalidArgument, PermissionDenied
from zquant_kit.principal import Principal

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "password", ["Secret-pass-1", "abcdefghi1", "ABCDEFGHI!", "1234567890a", "correct horse"]
)
def test_password_of_ten_chars_mixing_two_classes_is_accepted(password):
    assert rules.check_password(password) == password


@pytest.mark.parametrize("password", ["", "Abcdef-12", "short"])
def test_password_shorter_than_ten_chars_is_rejected(password):
    with pytest.raises(InvalidArgument) as raised:
        rules.check_password(password)
    assert raised.value.field == "password"
    assert "at least 10 characters" in raised.value.description


@pytest.mark.parametrize("password", ["abcdefghijkl", "ABCDEFGHIJKL", "123456789012", "!@#$%^&*()_+"])
def test_password_of_one_character_class_is_rejected(password):
    with pytest.raises(InvalidArgument) as raised:
        rules.check_password(password)
    assert raised.value.field == "password"
    assert "mix at least two" in raised.value.description


def test_password_error_names_the_field_it_came_from():
    with pytest.raises(InvalidArgument) as raised:
        rules.check_password("weak", field="new_password")
    assert raised.value.field == "new_password"
    assert str(raised.value).startswith("new_password: ")


@pytest.mark.parametrize(
    ("email", "normalised"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("a.b+c@x-y.co.uk", "a.b+c@x-y.co.uk"),
        ("a" * 64 + "@" + "b" * 185 + ".com", "a" * 64 + "@" + "b" * 185 + ".com"),  # 254 chars: the maximum
    ],
)
def test_valid_email_is_trimmed_and_lower_cased(email, normalised):
    assert rules.check_email(email) == normalised


@pytest.mark.parametrize(
    "email",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "a@b",
        "a@b.c",
        "a b@example.com",
        "a@exa mple.com",
        "a@@b.com",
        "x" * 65 + "@example.com",
        "a" * 64 + "@" + "b" * 186 + ".com",
    ],
)
def test_invalid_email_is_rejected_naming_the_field(email):
    """Including a 65-char local part and a 255-char address."""
    with pytest.raises(InvalidArgument) as raised:
        rules.check_email(email, field="user.email")
    assert raised.value.field == "user.email"


@pytest.mark.parametrize("username", ["abc", "a.b-c_9", "A" * 64])
def test_valid_username_is_accepted(username):
    assert rules.check_username(username) == username


@pytest.mark.parametrize("username", ["ab", "A" * 65, "bad name", "ünï", "a@b", ""])
def test_invalid_username_is_rejected_naming_the_field(username):
    with pytest.raises(InvalidArgument) as raised:
        rules.check_username(username)
    assert raised.value.field == "username"


@pytest.mark.parametrize(
    ("name", "valid"), [("quant-lead", True), ("r2", True), ("Admin", False), ("a", False), ("9x", False)]
)
def test_role_name_rule(name, valid):
    if valid:
        assert rules.check_role_name(name) == name
    else:
        with pytest.raises(InvalidArgument, match=r"^name: "):
            rules.check_role_name(name)


def test_unknown_permission_is_reported_with_its_index():
    catalogue = set(rules.PERMISSIONS)
    assert rules.check_permissions(["data:read", "backtest:run"], catalogue) == ["data:read", "backtest:run"]
    with pytest.raises(InvalidArgument) as raised:
        rules.check_permissions(["data:read", "data:destroy"], catalogue)
    assert raised.value.field == "permissions[1]"
    assert "data:destroy" in raised.value.description


def test_seeded_roles_use_only_catalogue_permissions():
    assert set(rules.SEED_ROLES) == {"admin", "researcher", "viewer"}
    assert set(rules.SEED_ROLES["admin"][1]) == set(rules.PERMISSIONS)
    for _, granted in rules.SEED_ROLES.values():
        assert set(granted) <= set(rules.PERMISSIONS)
    assert all(p.endswith(":read") for p in rules.SEED_ROLES["viewer"][1])
    assert set(rules.SEED_ROLES["viewer"][1]) <= set(rules.SEED_ROLES["researcher"][1])
    assert not {p for p in rules.SEED_ROLES["researcher"][1] if p.split(":")[0] in {"user", "role", "audit"}}


@pytest.mark.parametrize(
    ("granted", "asked", "allowed"),
    [
        ({"user:read"}, "user:read", True),
        ({"user:read"}, "user:delete", False),
        ({"user:*"}, "user:delete", True),
        ({"user:*"}, "role:write", False),
        ({"*"}, "audit:read", True),
        (set(), "data:read", False),
    ],
)
def test_principal_permission_check(granted, asked, allowed):
    assert Principal("u1", "alice", "custom", frozenset(granted)).has(asked) is allowed


def test_require_held_names_every_missing_permission_and_honours_wildcards():
    actor = Principal("u1", "ops", "ops", frozenset({"user:*", "data:read"}))
    rules.require_held(actor, ["user:delete", "user:update", "data:read"], "assigning role 'x'")
    with pytest.raises(PermissionDenied) as raised:
        rules.require_held(actor, ["role:write", "audit:read", "data:read"], "assigning role 'x'")
    assert (raised.value.reason, raised.value.permission) == ("PERMISSION_NOT_HELD", "audit:read")
    assert str(raised.value) == "assigning role 'x' needs permissions you do not hold: audit:read, role:write"


def test_only_an_admin_may_change_an_admin():
    almighty = Principal("u1", "ops", "ops", frozenset({"*"}))  # every permission, but not the admin role
    rules.require_admin_to_change(almighty, "researcher", "deactivate")
    with pytest.raises(PermissionDenied) as raised:
        rules.require_admin_to_change(almighty, "admin", "deactivate")
    assert (raised.value.reason, str(raised.value)) == (
        "ADMIN_PROTECTED",
        "only an admin may deactivate an admin",
    )
    rules.require_admin_to_change(Principal("u2", "root", "admin"), "admin", "deactivate")
