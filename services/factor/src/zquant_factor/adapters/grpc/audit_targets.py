"""Which request fields name what a factor RPC acted on, in the audit log: the first one set wins."""

AUDIT_TARGET_FIELDS = ("model_id", "factor_id", "factor_name", "id")
