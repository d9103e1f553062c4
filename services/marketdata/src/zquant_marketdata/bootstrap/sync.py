"""sync area wiring."""


def wire(app) -> None:
    """Filled in by the sync work."""
