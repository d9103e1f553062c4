"""Factor definitions, their calculator models and configs, with the seed's rules enforced."""
