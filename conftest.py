"""Every test layer's shared fixtures come from the kit's pytest plugin (`zquant_kit.testing`)."""

pytest_plugins = ["zquant_kit.testing.plugin"]
