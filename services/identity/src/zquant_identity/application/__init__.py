"""Identity use cases and the ports they need."""
