"""How the project reports bad input: one `Problem` per invalid value, all at once.

A problem names the file, the key and what would be valid. `ConfigError` carries every
problem found and is raised before the program declares any resource.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One invalid value: which file, which key, what is wrong and what would be valid."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}" if self.key else f"{self.file}: {self.message}"


class ConfigError(Exception):
    """Invalid stack configuration. Raised before any resource is declared.

    Under `pulumi up` the entry point (`infra/__main__.py`) turns it into a `pulumi.RunError`,
    which the CLI prints as the message alone, without a traceback."""

    def __init__(self, problems: list[Problem]):
        # The same problem found through two stacks is reported once.
        self.problems = list(dict.fromkeys(problems))
        # Filled in by the offline engine: what the program had declared when it stopped.
        self.declared: list[str] = []
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")
