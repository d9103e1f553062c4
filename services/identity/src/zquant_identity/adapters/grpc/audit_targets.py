"""Which request fields name what an identity RPC acted on, in the audit log: the first one set wins."""

AUDIT_TARGET_FIELDS = ("user_id", "api_key_id", "notification_id", "name", "username", "id")
