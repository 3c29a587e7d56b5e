"""Building opsbot's parts from the one settings object."""

from __future__ import annotations

import redis

from bot.audit import AuditLog
from bot.backends import Backends
from bot.door import Door
from bot.settings import Settings
from tools.catalog import all_tools
from tools.context import ToolContext


def redis_client(settings: Settings) -> redis.Redis:
    s = settings.redis
    password = s.password.get_secret_value() if s.password else None
    return redis.Redis.from_url(s.url, password=password, socket_timeout=s.timeout_s, socket_connect_timeout=s.timeout_s)


def build_door(settings: Settings, audit_key: str | None = None) -> Door:
    audit = AuditLog(redis_client(settings), audit_key or f"{settings.redis.key_prefix}audit")
    return Door(all_tools(), ToolContext(settings, Backends(settings)), audit)
