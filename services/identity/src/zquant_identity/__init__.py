"""Identity service: users, roles, tokens, API keys, notifications and the audit log."""
