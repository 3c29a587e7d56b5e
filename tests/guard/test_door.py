"""The one door: unknown tools and bad arguments are explained, every call is audited, Redis down is said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from bot.guard.audit import AuditLog, AuditRecord
from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.doors import make_door
from tools.base import Status


def test_unknown_tool_lists_the_real_ones(door: Door, oncall: Caller) -> None:
    r = door.run("k8s_exec", {"namespace": "shop"}, oncall)
    assert r.status == Status.error
    assert "no tool 'k8s_exec'" in (r.error or "") and "k8s_list" in (r.error or "")
    [record] = door.audit.query()
    assert (record.action, record.status, record.identity) == ("k8s_exec", "error", "cli:tester")


def test_invalid_arguments_are_refused_before_anything_runs(door: Door, oncall: Caller) -> None:
    r = door.run("k8s_list", {"namespace": "shop; rm -rf /", "colour": "red"}, oncall)
    assert r.status == Status.error
    assert "invalid arguments for k8s_list" in (r.error or "")
    assert "namespace" in (r.error or "") and "colour: is not an argument of this tool" in (r.error or "")


def test_every_call_is_recorded_with_who_what_and_how_long(door: Door) -> None:
    lead = Caller(identity="slack:U42", via="agent", incident="inc-7")
    door.run("k8s_list", {"namespace": "shop"}, lead)
    door.run("logs_search", {"service": "checkout", "level": "error"}, lead)
    records = door.audit.query()
    assert [r.action for r in records] == ["k8s_list", "logs_search"]
    first = records[0]
    assert first.identity == "slack:U42" and first.incident == "inc-7" and first.kind == "tool_call"
    assert first.args == {"namespace": "shop"} and first.target == "shop"
    assert first.status == "success" and first.duration_ms is not None and first.duration_ms >= 0
    assert first.summary.startswith("k8s_list(")


def test_audit_down_still_answers_reads_and_says_it_was_not_recorded(
    settings: Settings, dead_url: str, oncall: Caller
) -> None:
    port = dead_url.rsplit(":", 1)[1]
    door = make_door(settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": f"redis://127.0.0.1:{port}/0", "timeout_s": 0.5})}))
    r = door.run("k8s_list", {"namespace": "shop"}, oncall)
    assert r.status == Status.success
    assert "not recorded in the audit log" in (r.notice or "")


def test_audit_queries_filter_by_time_identity_target_and_action(settings: Settings) -> None:
    log = AuditLog(redis.Redis.from_url(settings.redis.url), "test:audit:filters")
    log.client.delete(log.key)
    now = datetime.now(UTC)
    for identity, action, target in [
        ("slack:U1", "k8s_scale", "shop/checkout"),
        ("telegram:9", "k8s_list", "shop"),
        ("slack:U1", "logs_search", "payments/payments-api"),
    ]:
        log.append(AuditRecord(at=now, kind="tool_call", identity=identity, action=action, target=target, status="success"))
    assert [r.action for r in log.query(identity="slack:U1")] == ["k8s_scale", "logs_search"]
    assert [r.identity for r in log.query(action="k8s_list")] == ["telegram:9"]
    assert [r.action for r in log.query(target="checkout")] == ["k8s_scale"]
    assert len(log.query(since=now - timedelta(minutes=1))) == 3
    assert log.query(until=now - timedelta(hours=1)) == []
