"""Building opsbot's parts from the one settings object."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aredis
import structlog
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.connection import parse_url
from redis.sentinel import Sentinel

from bot.backends import Backends
from bot.guard.approvals import ApprovalStore
from bot.guard.audit import AuditLog
from bot.guard.door import Door
from bot.settings import RedisSettings, Settings
from knowledge.outcomes import Outcomes
from policies.engine import PolicyEngine
from policies.schema import load_policy
from tools.catalog import Catalog
from tools.context import ToolContext

log = structlog.get_logger(__name__)


def redis_client(settings: Settings) -> redis.Redis:
    """The client of every Redis user: `redis.url` (rediss:// for TLS), or, with `redis.sentinels`, the primary
    they name, asked again on every new connection, so a reconnect after a failover reaches the new one."""
    s = settings.redis
    if s.sentinels:
        sentinel = Sentinel(s.sentinel_addresses(), sentinel_kwargs=_sentinel_kwargs(s))
        return sentinel.master_for(s.sentinel_master, **_primary_kwargs(s))
    return redis.Redis.from_url(s.url, **_common_kwargs(s))


def async_redis_client(settings: Settings) -> aredis.Redis:
    """`redis_client` for asyncio (the webhook app)."""
    s = settings.redis
    if s.sentinels:
        sentinel = AsyncSentinel(s.sentinel_addresses(), sentinel_kwargs=_sentinel_kwargs(s))
        return sentinel.master_for(s.sentinel_master, **_primary_kwargs(s))
    return aredis.Redis.from_url(s.url, **_common_kwargs(s))


def _common_kwargs(s: RedisSettings) -> dict[str, Any]:
    return {"password": s.password.get_secret_value() if s.password else None,
            "socket_timeout": s.timeout_s, "socket_connect_timeout": s.timeout_s}


def _primary_kwargs(s: RedisSettings) -> dict[str, Any]:
    """The url's db, username and TLS options for the primary the sentinels name (its host and port are theirs)."""
    options = parse_url(s.url)
    for key in ("host", "port", "connection_class"):
        options.pop(key, None)
    return {**_common_kwargs(s), **options, "ssl": s.url.startswith("rediss://")}  # the url wins, as in from_url


def _sentinel_kwargs(s: RedisSettings) -> dict[str, Any]:
    """How to reach the sentinels: the same timeouts and TLS options, their own password."""
    tls = {k: v for k, v in _primary_kwargs(s).items() if k.startswith("ssl")}
    return {"socket_timeout": s.timeout_s, "socket_connect_timeout": s.timeout_s, **tls,
            "password": s.sentinel_password.get_secret_value() if s.sentinel_password else None}


def build_door(settings: Settings, prefix: str | None = None, ctx: ToolContext | None = None) -> Door:
    """The door with its audit log, policy engine and approvals; `prefix` isolates Redis keys (tests)."""
    client = redis_client(settings)
    prefix = prefix or settings.redis.key_prefix
    engine = PolicyEngine(load_policy(settings.policy_file))
    tools = Catalog()  # every tool by name; a tool's module loads when it is first looked up
    if settings.mcp.servers:  # other MCP servers' tools, as far as the settings and the policy let them in
        from bot.mcp.remote import remote_tools

        tools = Catalog(remote_tools(settings, engine))
    return Door(tools, ctx or ToolContext(settings, Backends(settings)), AuditLog(client, f"{prefix}audit"),
                engine, ApprovalStore(client, prefix), Outcomes(client, prefix, settings.knowledge))


def outcomes(settings: Settings, prefix: str | None = None) -> Outcomes:
    """Outcome learning on the configured Redis (`prefix` isolates keys, as for the door)."""
    return Outcomes(redis_client(settings), prefix or settings.redis.key_prefix, settings.knowledge)


def redis_durability(client: redis.Redis) -> list[str]:
    """What the Redis opsbot stores in would lose, in sentences for a start-up warning (docs/operations.md).

    Empty when it persists (AOF or RDB snapshots) and never evicts opsbot's keys, or when CONFIG is not
    allowed (managed Redis): then the operator's provider answers for it."""
    try:
        config = client.config_get("appendonly") | client.config_get("save") | client.config_get("maxmemory-policy")
    except redis.ResponseError as e:  # CONFIG disabled or renamed
        log.info("redis_config_unreadable", error=str(e)[:200])
        return []
    problems = []
    if config.get("appendonly") != "yes" and not config.get("save"):
        problems.append("Redis keeps nothing on disk (appendonly no, save ''): a restart loses incidents, "
                        "pending actions and the audit trail; turn on AOF (appendonly yes, appendfsync everysec)")
    policy = config.get("maxmemory-policy", "noeviction")
    if policy != "noeviction":
        problems.append(f"Redis evicts keys under memory pressure (maxmemory-policy {policy}): accepted alerts, "
                        "approvals and audit records may vanish; use maxmemory-policy noeviction")
    return problems
