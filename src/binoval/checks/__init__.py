"""Stage checks: each turns a stage's tables and its thresholds into a status.

A status is PASS, WARN or FAIL with reasons in words. Statuses are computed
where the verdict is made, from stored tables and the ``thresholds`` config,
so changing a threshold reruns only the verdict and what follows it.
"""

from .status import FAIL, PASS, WARN, StageResult

__all__ = ["FAIL", "PASS", "WARN", "StageResult"]
