"""Reading one sslyze scan command's outcome out of a record."""

from __future__ import annotations

from typing import Any


class Attempt:
    """The result of one sslyze scan command in a record, or why there is none."""

    def __init__(self, record: dict[str, Any], command: str) -> None:
        scan_result = (record.get("sslyze") or {}).get("scan_result") or {}
        attempt = scan_result.get(command) or {}
        self.command = command
        self.status = attempt.get("status", "NOT_SCHEDULED")
        self.result: dict[str, Any] | None = attempt.get("result") if self.status == "COMPLETED" else None
        self.error_reason = attempt.get("error_reason")
        trace = attempt.get("error_trace") or ""
        self.error_last_line = trace.strip().splitlines()[-1] if trace.strip() else None

    @property
    def ok(self) -> bool:
        return self.result is not None

    def why_not(self) -> dict[str, Any]:
        return {
            "sslyze_command": self.command,
            "status": self.status,
            "error_reason": self.error_reason,
            "error": self.error_last_line,
        }
