"""Throttling of failed verifications (NIST SP 800-63B rate limiting).

Up to ``soft_limit`` consecutive failures are free; each failure from the ``soft_limit``-th on
imposes a delay (``base_delay`` seconds, doubling per further failure, capped at ``max_delay``)
before the next attempt is evaluated; at ``hard_limit`` consecutive failures the subject is
locked until an operator re-enables it. A match resets the count. The counters live in the
store, so they hold across workers, nodes and restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tlsward_biometric.errors import SubjectLockedError, ThrottledError


@dataclass(frozen=True)
class LockoutPolicy:
    soft_limit: int = 5
    base_delay: int = 30
    max_delay: int = 3600
    hard_limit: int = 10


@dataclass(frozen=True)
class Counters:
    """A subject's consecutive failures, the time before which no attempt is evaluated, the lock."""

    failed_count: int = 0
    locked_until: float = 0.0
    hard_locked: bool = False


def delay_after(policy: LockoutPolicy, failures: int) -> int:
    """Seconds to wait after ``failures`` consecutive failures (0 below the soft limit)."""
    if failures < policy.soft_limit:
        return 0
    return min(policy.max_delay, policy.base_delay * 2 ** min(failures - policy.soft_limit, 32))


def check(policy: LockoutPolicy, counters: Counters, now: float, subject_id: str) -> None:
    """Raise if the subject may not attempt a verification now."""
    del policy  # the decision is fully recorded in the counters
    if counters.hard_locked:
        raise SubjectLockedError(
            f"subject {subject_id} is locked after too many failed verifications; "
            "an operator must re-enable it"
        )
    if counters.locked_until > now:
        wait = max(1, math.ceil(counters.locked_until - now))
        raise ThrottledError(
            f"too many failed verifications for subject {subject_id}; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def after_failure(policy: LockoutPolicy, counters: Counters, now: float) -> Counters:
    failures = counters.failed_count + 1
    if failures >= policy.hard_limit:
        return Counters(failures, 0.0, True)
    delay = delay_after(policy, failures)
    return Counters(failures, now + delay if delay else 0.0, False)


def after_success() -> Counters:
    return Counters()
