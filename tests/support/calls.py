"""What a fake API server records and how tests wait on it: every call, under one condition variable."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    error: str | None = None
    result: Any = None


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0, **match: Any) -> list[Call]:
        """Block until `count` successful calls of `method` whose args contain `match` were made (values are
        compared as text: Telegram's bodies are form-encoded)."""
        def found() -> list[Call]:
            return [c for c in self.calls if c.method == method and c.error is None
                    and all(str(c.args.get(k)) == str(v) for k, v in match.items())]
        with self._lock:
            if not self._lock.wait_for(lambda: len(found()) >= count, timeout):
                raise AssertionError(f"{count}× {method} {match or ''} not seen within {timeout}s; calls: "
                                     f"{[(c.method, c.error) for c in self.calls]}")
            return found()

    def made(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def errors(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.error]
