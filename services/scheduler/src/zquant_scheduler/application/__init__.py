"""Use cases of the scheduler and the ports they need."""
