"""The demo composes the services; the kit it runs on knows none of them."""
