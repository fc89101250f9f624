"""How long a rate-limited provider asked us to wait (HTTP ``Retry-After``, RFC 9110 10.2.3).

The value becomes the activity's next retry delay, so Temporal waits what the API asked rather
than its own backoff. Unreadable values are None (the retry policy's backoff then applies):
a garbled header must not turn into "retry at once" nor into "wait forever".
"""

from __future__ import annotations

import math
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["retry_after_seconds"]


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date (a date in
    the past is 0). ``now`` is epoch seconds, for tests."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC (RFC 5322)
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
