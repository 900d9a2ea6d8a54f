"""Checks `make lint` runs that no off-the-shelf linter does."""
