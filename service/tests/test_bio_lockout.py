import pytest
from tlsward_biometric.errors import SubjectLockedError, ThrottledError
from tlsward_biometric.lockout import (
    Counters,
    LockoutPolicy,
    after_failure,
    after_success,
    check,
    delay_after,
)

POLICY = LockoutPolicy(soft_limit=5, base_delay=30, max_delay=3600, hard_limit=10)


def test_delays_grow_from_the_soft_limit():
    assert [delay_after(POLICY, n) for n in range(1, 10)] == [0, 0, 0, 0, 30, 60, 120, 240, 480]
    assert delay_after(LockoutPolicy(max_delay=100), 9) == 100


def test_sequence_of_failures():
    counters, now = Counters(), 1000.0
    for _ in range(4):
        counters = after_failure(POLICY, counters, now)
        check(POLICY, counters, now, "s")  # no delay for the first four failures
    counters = after_failure(POLICY, counters, now)  # fifth failure
    with pytest.raises(ThrottledError) as excinfo:
        check(POLICY, counters, now + 1, "s")
    assert excinfo.value.headers == {"Retry-After": "29"}
    check(POLICY, counters, now + 30, "s")
    for _ in range(5):
        counters = after_failure(POLICY, counters, now)
    assert counters.hard_locked
    with pytest.raises(SubjectLockedError):
        check(POLICY, counters, now + 10**9, "s")
    assert after_success() == Counters()
