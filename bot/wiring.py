"""Building opsbot's parts from the one settings object."""

from __future__ import annotations

import redis
import structlog

from bot.backends import Backends
from bot.guard.approvals import ApprovalStore
from bot.guard.audit import AuditLog
from bot.guard.door import Door
from bot.settings import Settings
from knowledge.outcomes import Outcomes
from policies.engine import PolicyEngine
from policies.schema import load_policy
from tools.catalog import all_tools
from tools.context import ToolContext

log = structlog.get_logger(__name__)


def redis_client(settings: Settings) -> redis.Redis:
    s = settings.redis
    password = s.password.get_secret_value() if s.password else None
    return redis.Redis.from_url(s.url, password=password, socket_timeout=s.timeout_s, socket_connect_timeout=s.timeout_s)


def build_door(settings: Settings, prefix: str | None = None, ctx: ToolContext | None = None) -> Door:
    """The door with its audit log, policy engine and approvals; `prefix` isolates Redis keys (tests)."""
    client = redis_client(settings)
    prefix = prefix or settings.redis.key_prefix
    engine = PolicyEngine(load_policy(settings.policy_file))
    return Door(all_tools(), ctx or ToolContext(settings, Backends(settings)), AuditLog(client, f"{prefix}audit"),
                engine, ApprovalStore(client, prefix))


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
