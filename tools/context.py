"""The per-run dependencies every tool receives: settings, backend clients and a clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.backends import Backends
    from bot.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ToolContext:
    settings: Settings
    backends: Backends
    now: Callable[[], datetime] = field(default=utc_now)
