"""Domain events: one port, two adapters (in-process for all-in-one, NATS JetStream for distributed)."""
