"""pytest fixtures for the local bl service (filled in by its owner)."""
