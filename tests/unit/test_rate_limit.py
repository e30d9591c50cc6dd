"""The token bucket keeps one worker instance under its share of Stripe's rate limit."""

from __future__ import annotations

from shared.stripe.rate_limit import RateLimiter


class FakeClock:
    """A clock that only moves when the limiter sleeps, so the test measures the limiter, not the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_requests_beyond_the_burst_are_spaced_at_the_rate() -> None:
    # Given 10 requests per second with a burst of 10
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock.time, sleep=clock.sleep)
    # When 30 requests are made back to back
    for _ in range(30):
        limiter.acquire()
    # Then the burst went at once and the other 20 took 2 seconds
    assert abs(clock.now - 2.0) < 1e-6


def test_an_idle_limiter_refills_only_up_to_its_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, burst=2, clock=clock.time, sleep=clock.sleep)
    clock.now = 100.0  # a long idle time
    for _ in range(4):
        limiter.acquire()
    # Two from the refilled burst, then two spaced at 1/5 s
    assert abs(clock.now - 100.4) < 1e-6
