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

    def grade(self, value: float, message: str, fail: float, warn: float, worse: str = "below", fmt: str = "") -> None:
        """FAIL when ``value`` is worse than ``fail``, else WARN when worse than ``warn``; otherwise nothing.

        ``worse`` is ``"below"`` (small values are bad: p-values, coverage) or
        ``"above"`` (large values are bad: rates, shares). The reason is
        ``message`` followed by the threshold crossed, formatted with ``fmt``.
        """
        if worse not in ("below", "above"):
            raise ValueError(f"worse must be 'below' or 'above', got {worse!r}")
        sign = "<" if worse == "below" else ">"
        for level, threshold in ((FAIL, fail), (WARN, warn)):
            crossed = value < threshold if worse == "below" else value > threshold
            if crossed:
                self._add(level, f"{message} {sign} {threshold:{fmt}}")
                return

    def note(self, reason: str) -> None:
        """A finding that does not change the status."""
        self.reasons.append(reason)

    def _add(self, status: str, reason: str) -> None:
        if _RANK[status] > _RANK[self.status]:
            self.status = status
        self.reasons.append(f"{status}: {reason}")

    def to_dict(self) -> dict:
        return {"status": self.status, "reasons": list(self.reasons)}
