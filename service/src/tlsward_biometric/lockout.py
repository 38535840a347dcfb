"""Throttling of failed verifications (NIST SP 800-63B rate limiting).

Up to ``soft_limit`` consecutive failures are free; each failure from the ``soft_limit``-th on
imposes a delay (``base_delay`` seconds, doubling per further failure, capped at ``max_delay``)
before the next attempt is evaluated; at ``hard_limit`` consecutive failures the subject is
locked until an operator re-enables it. A match resets the count. The counters live in the
store, so they hold across workers, nodes and restarts. A subject's counters exist whether or not
it is enrolled: an unknown subject is throttled exactly like an enrolled one that does not match.

On top of that, each *device* has a failure budget (``DevicePolicy``): at most ``budget`` failed
verifications, across all subjects, within any ``window`` seconds (a sliding window). A device
that has spent its budget is throttled itself (429 with Retry-After) until its oldest failure in
the window ages out. And one device's failures may make up at most ``hard_limit - 1`` of one
subject's consecutive failures: the device alone can never hard-lock a subject. A subject with
no earlier failures needs ``soft_limit`` of them to enter a delay, so within one window one device
pushes at most K = ``budget // soft_limit`` subjects (3 by default) into a delay, and never one
into the hard lock. Other devices keep their own budgets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tlsward_biometric.errors import DeviceThrottledError, SubjectLockedError, ThrottledError


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


@dataclass(frozen=True)
class DevicePolicy:
    """A device's failed-verification budget: ``budget`` failures per sliding ``window`` seconds."""

    budget: int = 15
    window: int = 3600

    def subjects_into_delay(self, policy: LockoutPolicy) -> int:
        """K: how many fresh subjects one device can push into a delay within one window."""
        return self.budget // policy.soft_limit


def check_device(device: DevicePolicy, failures: list[float], now: float) -> None:
    """Raise if a device whose failures in the window are ``failures`` (sorted) may not try now."""
    if len(failures) < device.budget:
        return
    ages_out = failures[len(failures) - device.budget] + device.window
    wait = max(1, math.ceil(ages_out - now))
    raise DeviceThrottledError(
        f"this device has had {len(failures)} failed verifications within {device.window} s; "
        f"retry in {wait} s",
        headers={"Retry-After": str(wait)},
    )


def check_share(policy: LockoutPolicy, device: DevicePolicy, share: int, subject_id: str) -> None:
    """Raise if this device's failures already make up ``hard_limit - 1`` of the subject's streak."""
    if share < policy.hard_limit - 1:
        return
    raise DeviceThrottledError(
        f"this device has had {share} consecutive failed verifications for subject {subject_id}; "
        "the subject must be verified on another device or re-enabled by an operator",
        headers={"Retry-After": str(device.window)},
    )
