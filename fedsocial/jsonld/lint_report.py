"""Core layer: the values a lint run produces (findings and the report with its exit code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: how bad it is, a stable machine code, a sentence, and where (JSON path)."""

    severity: Severity
    code: str
    message: str
    path: str = ""


@dataclass(frozen=True, slots=True)
class LintReport:
    """All findings for one document, in the order they were found."""

    findings: tuple[Finding, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings of severity "error"."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings of severity "warning"."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 when there are only warnings, 2 when there is any error."""
        if self.errors:
            return 2
        return 1 if self.findings else 0

    def codes(self) -> list[str]:
        """The finding codes, in order (handy in tests and CLI summaries)."""
        return [f.code for f in self.findings]
