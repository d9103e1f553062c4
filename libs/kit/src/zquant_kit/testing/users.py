"""Passwords the test stacks seed and log in with."""

ADMIN_PASSWORD = "Admin-Passw0rd!"
USER_PASSWORD = "Secret-pass-1"
