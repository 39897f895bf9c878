"""Provider platforms: one module per contract, and the bundled simulator."""
