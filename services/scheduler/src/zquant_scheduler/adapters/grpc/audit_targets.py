"""Which request fields name what a scheduler RPC acted on, in the audit log: the first one set wins."""

AUDIT_TARGET_FIELDS = ("job_id", "run_id")
