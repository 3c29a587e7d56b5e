"""Waiting for something to happen elsewhere (a card, a server): bounded polling, never an open-ended wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.2) -> T | None:
    """The first truthy value `probe` returns within `timeout_s`, else None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(interval_s)
    return None
