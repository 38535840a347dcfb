"""Errors shared by the validators, the renderer and the scanner."""

from __future__ import annotations


class TlswardError(ValueError):
    """A problem with user input, reported with every problem found, not just the first.

    ``source`` names what complained (a filter name such as ``validate_cipher_list``), and
    ``problems`` holds one human-readable line per offending item and rule.
    """

    def __init__(self, source: str, problems: list[str] | str) -> None:
        self.source = source
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.source}: {len(self.problems)} problems:\n{lines}"


class PolicyError(TlswardError):
    """A policy profile is unknown or malformed."""
