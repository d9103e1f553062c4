"""Which request fields name what a backtest RPC acted on, in the audit log: the first one set wins."""

AUDIT_TARGET_FIELDS = ("task_id", "first_task_id", "strategy_id", "template_name", "name")
