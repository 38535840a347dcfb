"""Command-line entry points of the controller package (console scripts in pyproject.toml)."""
