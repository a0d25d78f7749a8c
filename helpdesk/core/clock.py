"""The only place that reads the wall clock; everything below the edge takes ``now``."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
