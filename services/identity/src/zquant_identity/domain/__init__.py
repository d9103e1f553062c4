"""Pure identity domain: entities and rules, no I/O."""
