"""pytest fixtures for the local kafka service (filled in by its owner)."""
