"""queries area wiring."""


def wire(app) -> None:
    """Filled in by the queries work."""
