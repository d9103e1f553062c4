"""Async SQLAlchemy plumbing: engines, unit of work, outbox, idempotent consumers, migrations."""
