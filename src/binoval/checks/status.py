"""The status of one validation stage: PASS / WARN / FAIL with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass
class StageResult:
    """A stage's status (the worst of its findings) and the reasons behind it.

    Reasons of WARN and FAIL findings are listed; a PASS carries a one-line
    summary of what was checked, so a reader sees the numbers either way.
    """

    status: str = PASS
    reasons: list[str] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        self._add(FAIL, reason)

    def warn(self, reason: str) -> None:
        self._add(WARN, reason)

    def note(self, reason: str) -> None:
        """A finding that does not change the status."""
        self.reasons.append(reason)

    def _add(self, status: str, reason: str) -> None:
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        self.reasons.append(f"{status}: {reason}")

    def to_dict(self) -> dict:
        return {"status": self.status, "reasons": list(self.reasons)}
