"""The time source port: ``Clock.now()`` is aware UTC (``SystemClock`` in production, a fake in tests)."""

from bridge.clock import Clock, SystemClock

__all__ = ["Clock", "SystemClock"]
