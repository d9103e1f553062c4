"""watchlist area wiring."""


def wire(app) -> None:
    """Filled in by the watchlist work."""
