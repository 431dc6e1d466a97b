"""Rate limits of the web chat (SPEC 3.5): token buckets per IP address and per chat, in this process.

A bucket holds `per_minute` tokens and refills at `per_minute / 60` a second; an empty one answers how
long until the next token, which becomes `Retry-After`. Buckets not touched for ten minutes are dropped.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Hashable

IDLE_SECONDS = 600


class RateLimits:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._swept = clock()

    def take(self, key: Hashable, per_minute: int) -> float:
        """0 when allowed (a token is taken); otherwise the seconds to wait."""
        now = self._clock()
        self._sweep(now)
        tokens, updated = self._buckets.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - updated) * per_minute / 60)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return max(1.0, math.ceil((1 - tokens) * 60 / per_minute))
        self._buckets[key] = (tokens - 1, now)
        return 0.0

    def _sweep(self, now: float) -> None:
        if now - self._swept < IDLE_SECONDS:
            return
        self._swept = now
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < IDLE_SECONDS}
