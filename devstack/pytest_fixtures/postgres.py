"""pytest fixtures for the local postgres service (filled in by its owner)."""
