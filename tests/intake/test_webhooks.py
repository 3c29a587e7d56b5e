"""Webhook intake over real HTTP: bad input is refused precisely and stores nothing; Redis down means 503."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bench.hostile_payloads import hostile_body
from bot.cards.poster import ConsolePoster
from bot.intake.pipeline import Pipeline
from bot.intake.webhooks.app import create_app
from bot.intake.webhooks.server import ThreadedServer
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode, sentry_headers, sentry_issue
from bot.settings import Settings
from tests.support.alerting import pipeline, quiet_settings, serving

TOKEN = "am-token-123"
SECRET = "sentry-client-secret"
LIMIT = 20_000


@pytest.fixture(scope="module")
def guarded(settings: Settings) -> Settings:
    return quiet_settings(settings, alertmanager_token=SecretStr(TOKEN), sentry_client_secret=SecretStr(SECRET),
                          max_body_bytes=LIMIT)


@pytest.fixture(scope="module")
def served(guarded: Settings) -> Iterator[tuple[Pipeline, str]]:
    p = pipeline(guarded, ConsolePoster())
    with serving(p) as server:
        yield p, server.url


def good_am() -> dict:
    return am_payload([am_alert({"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout",
                                 "severity": "critical"})])


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _am(body: bytes, headers: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": "application/json", **(AUTH if headers is None else headers)}


def _without(key: str) -> dict:
    d = good_am()
    del d[key]
    return d


AM_BAD = [
    ("no token", *_am(encode(good_am()), {}), 401, "missing_token"),
    ("wrong token", *_am(encode(good_am()), {"Authorization": "Bearer nope"}), 401, "bad_token"),
    ("basic auth instead of bearer", *_am(encode(good_am()), {"Authorization": f"Basic {TOKEN}"}), 401, "bad_token"),
    ("empty body", *_am(b""), 400, "empty_body"),
    ("malformed json", *_am(b'{"version": "4", '), 400, "malformed_json"),
    ("not utf-8", *_am(b"\xff\xfe\x00"), 400, "malformed_json"),
    ("json array", *_am(b"[1, 2]"), 422, "invalid_payload"),
    ("version 3", *_am(encode({**good_am(), "version": "3"})), 422, "invalid_payload"),
    ("version 1 without Grafana's orgId", *_am(encode({**good_am(), "version": "1"})), 422, "invalid_payload"),
    ("no alerts key", *_am(encode(_without("alerts"))), 422, "invalid_payload"),
    ("empty alerts", *_am(encode({**good_am(), "alerts": []})), 422, "invalid_payload"),
    ("no groupKey", *_am(encode(_without("groupKey"))), 422, "invalid_payload"),
    ("negative truncatedAlerts", *_am(encode({**good_am(), "truncatedAlerts": -1})), 422, "invalid_payload"),
    ("alert status unknown", *_am(encode({**good_am(), "alerts": [{**good_am()["alerts"][0], "status": "on"}]})),
     422, "invalid_payload"),
    ("startsAt not a time", *_am(encode({**good_am(), "alerts": [{**good_am()["alerts"][0], "startsAt": "soon"}]})),
     422, "invalid_payload"),
    ("labels not strings", *_am(encode({**good_am(), "alerts": [{**good_am()["alerts"][0], "labels": {"a": [1]}}]})),
     422, "invalid_payload"),
    ("oversized", *_am(b'{"pad": "' + b"x" * (LIMIT + 10) + b'"}'), 413, "body_too_large"),
    ("nested 10,000 deep", *_am(b"[" * 10_000), 400, "malformed_json"),
    ("nested 40 deep", *_am(b"[" * 40 + b"]" * 40), 400, "malformed_json"),
    ("a 5,000-digit number", *_am(b'{"version": "4", "n": ' + b"9" * 5000 + b"}"), 400, "malformed_json"),
    ("a number beyond float", *_am(b'{"version": "4", "n": 1e999}'), 400, "malformed_json"),
    ("NaN", *_am(b'{"version": "4", "n": NaN}'), 400, "malformed_json"),
    ("a lone surrogate in a label", *_am(encode(good_am()).replace(b'"shop"', b'"sh\\ud800op"')), 400,
     "malformed_json"),
    # a payload of the right shape with one field no schema names out of bounds (pydantic's own parser would
    # take NaN, 1e999, a 41-digit number and 200 levels)
    ("NaN beside a good group", *_am(encode(good_am())[:-1] + b', "n": NaN}'), 400, "malformed_json"),
    ("1e999 beside a good group", *_am(encode(good_am())[:-1] + b', "n": 1e999}'), 400, "malformed_json"),
    ("41 digits beside a good group", *_am(encode(good_am())[:-1] + b', "n": ' + b"9" * 41 + b"}"), 400,
     "malformed_json"),
    ("an alert's extra field 40 deep", *_am(encode({**good_am(), "alerts": [
        {**good_am()["alerts"][0], "x": json.loads("[" * 40 + "]" * 40)}]})), 400, "malformed_json"),
]


def stream_length(p: Pipeline) -> int:
    return p.stream.client.xlen(p.stream.stream)


@pytest.mark.parametrize(("case", "body", "headers", "status", "code"), AM_BAD, ids=[c[0] for c in AM_BAD])
def test_alertmanager_bad_input_is_refused_precisely_and_stores_nothing(
        served: tuple[Pipeline, str], case: str, body: bytes, headers: dict, status: int, code: str) -> None:
    p, url = served
    before = stream_length(p)
    r = httpx.post(f"{url}/webhooks/alertmanager", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["message"]
    assert stream_length(p) == before


def test_shape_errors_say_where(served: tuple[Pipeline, str]) -> None:
    _, url = served
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(_without("groupKey")), headers=AUTH)
    assert r.json()["detail"][0]["at"] == "groupKey"
    assert "groupKey" in r.json()["message"]


def test_chunked_oversized_body_is_refused_without_content_length(served: tuple[Pipeline, str]) -> None:
    p, url = served
    before = stream_length(p)

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"x" * 1000

    r = httpx.post(f"{url}/webhooks/alertmanager", content=chunks(), headers=AUTH)
    assert r.status_code == 413 and stream_length(p) == before


def test_a_group_is_stored_whole_and_its_replay_is_a_duplicate(served: tuple[Pipeline, str]) -> None:
    p, url = served
    before = stream_length(p)
    payload = am_payload([am_alert({"alertname": "Many", "pod": f"p{i}", "severity": "warning"}) for i in range(25)])
    first = httpx.post(f"{url}/webhooks/alertmanager", content=encode(payload), headers=AUTH)
    assert first.status_code == 200 and first.json()["alerts"] == 25
    assert stream_length(p) == before + 1, "one delivery, one entry"
    stored = [r.alert for r in p.stream.latest(1)]
    assert len(stored) == 25 and len({a.fingerprint for a in stored if a}) == 25
    again = httpx.post(f"{url}/webhooks/alertmanager", content=encode(payload), headers=AUTH)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert stream_length(p) == before + 1


def _sentry(body: bytes, **kw: object) -> tuple[bytes, dict[str, str]]:
    return body, sentry_headers(SECRET, body, **kw)  # type: ignore[arg-type]


ISSUE = encode(sentry_issue("4711", "ZeroDivisionError: division by zero"))
# each case signs when it runs (a delivery signed at import could be older than the replay window by then)
SENTRY_BAD = [
    ("missing signature", lambda: (ISSUE, sentry_headers(None, ISSUE)), 401, "missing_signature"),
    ("bad signature", lambda: (ISSUE, {**sentry_headers(SECRET, ISSUE), "Sentry-Hook-Signature": "0" * 64}), 401,
     "bad_signature"),
    ("signed with another secret", lambda: (ISSUE, sentry_headers("other", ISSUE)), 401, "bad_signature"),
    ("body changed after signing", lambda: (ISSUE + b" ", sentry_headers(SECRET, ISSUE)), 401, "bad_signature"),
    ("no resource header", lambda: (ISSUE, {k: v for k, v in sentry_headers(SECRET, ISSUE).items()
                                            if k != "Sentry-Hook-Resource"}), 400, "missing_resource"),
    ("stale timestamp", lambda: _sentry(ISSUE, timestamp=time.time() - 3600), 409, "replayed"),
    ("timestamp not a number", lambda: (ISSUE, {**sentry_headers(SECRET, ISSUE), "Sentry-Hook-Timestamp": "yesterday"}),
     400, "bad_timestamp"),
    ("malformed json", lambda: _sentry(b"{nope"), 400, "malformed_json"),
    ("issue without id", lambda: _sentry(encode({"action": "created", "data": {"issue": {"title": "x"}}})), 422,
     "invalid_payload"),
    ("event_alert without event", lambda: _sentry(encode({"action": "triggered", "data": {}}),
                                                  resource="event_alert"), 422, "invalid_payload"),
    ("metric_alert unknown action", lambda: _sentry(encode({"action": "boiling", "data": {"metric_alert": {
        "alert_rule": {"id": "1"}}}}), resource="metric_alert"), 422, "invalid_payload"),
    ("oversized", lambda: _sentry(b'{"a": "' + b"y" * LIMIT + b'"}'), 413, "body_too_large"),
    ("a lone brace, validly signed", lambda: _sentry(b"{"), 400, "malformed_json"),
    ("nested 10,000 deep, validly signed", lambda: _sentry(b"[" * 10_000), 400, "malformed_json"),
    ("a lone surrogate in the title", lambda: _sentry(encode(sentry_issue("5002", "KeyError")).replace(
        b"KeyError", b"Key\\udfffError")), 400, "malformed_json"),
]


@pytest.mark.parametrize(("case", "make", "status", "code"), SENTRY_BAD, ids=[c[0] for c in SENTRY_BAD])
def test_sentry_bad_input_is_refused_precisely_and_stores_nothing(
        served: tuple[Pipeline, str], case: str, make: Callable[[], tuple[bytes, dict]], status: int,
        code: str) -> None:
    p, url = served
    before = stream_length(p)
    body, headers = make()
    r = httpx.post(f"{url}/webhooks/sentry", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"] == code
    assert stream_length(p) == before


def test_sentry_replayed_request_id_is_refused(served: tuple[Pipeline, str]) -> None:
    p, url = served
    body = encode(sentry_issue("5001", "KeyError: 'user'"))
    headers = sentry_headers(SECRET, body, request_id="req-5001")
    assert httpx.post(f"{url}/webhooks/sentry", content=body, headers=headers).status_code == 200
    before = stream_length(p)
    again = httpx.post(f"{url}/webhooks/sentry", content=body, headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "replayed"
    assert stream_length(p) == before


@pytest.mark.parametrize(("resource", "payload"), [
    ("installation", {"action": "created", "data": {"installation": {"uuid": "u"}}}),
    ("comment", {"action": "created", "data": {"comment": "hi"}}),
    ("issue", {**sentry_issue("6001", "x"), "action": "assigned"}),
])
def test_sentry_deliveries_without_an_alert_are_acknowledged_and_ignored(
        served: tuple[Pipeline, str], resource: str, payload: dict) -> None:
    p, url = served
    before = stream_length(p)
    body = encode(payload)
    r = httpx.post(f"{url}/webhooks/sentry", content=body, headers=sentry_headers(SECRET, body, resource=resource))
    assert r.status_code == 202 and r.json()["status"] == "ignored"
    assert stream_length(p) == before


def test_sentry_intake_is_off_without_a_client_secret(settings: Settings) -> None:
    p = pipeline(quiet_settings(settings, sentry_client_secret=None), ConsolePoster())
    with serving(p) as server:
        r = httpx.post(f"{server.url}/webhooks/sentry", content=ISSUE, headers=sentry_headers(SECRET, ISSUE))
    assert r.status_code == 403 and r.json()["error"] == "not_configured"


def test_alertmanager_intake_is_closed_without_a_token_unless_opened(settings: Settings) -> None:
    closed = quiet_settings(settings, alertmanager_token=None, alertmanager_open=False)
    p = pipeline(closed, ConsolePoster())
    with serving(p) as server:
        r = httpx.post(f"{server.url}/webhooks/alertmanager", content=encode(good_am()))
    assert r.status_code == 403 and r.json()["error"] == "not_configured"
    assert "alertmanager_token" in r.json()["message"] and stream_length(p) == 0


def test_redis_down_means_503_and_not_ready(settings: Settings, dead_url: str) -> None:
    dead_redis = dead_url.replace("http://", "redis://") + "/0"
    down = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": dead_redis,
                                                                                  "timeout_s": 0.5})})
    with ThreadedServer(create_app(down, prefix="test:down:")) as server:
        r = httpx.post(f"{server.url}/webhooks/alertmanager", content=encode(good_am()))
        assert r.status_code == 503 and r.json()["error"] == "intake_unavailable"
        assert r.headers["retry-after"]
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503 and ready.json()["message"] == "Redis is unreachable"
        assert dead_redis.split("//")[1].split("/")[0] not in ready.text  # no internal address in public
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'opsbot_alerts_received_total{outcome="unavailable",source="alertmanager"} 1.0' in metrics


@given(st.randoms(use_true_random=False))
@settings(max_examples=120, deadline=None, derandomize=True)
def test_generated_hostile_bodies_get_a_4xx_never_a_5xx(served: tuple[Pipeline, str], rnd: random.Random) -> None:
    p, url = served
    for endpoint, valid in (("alertmanager", encode(good_am())), ("sentry", ISSUE)):
        kind, body = hostile_body(rnd, valid, LIMIT)
        headers = AUTH if endpoint == "alertmanager" else sentry_headers(SECRET, body)  # validly signed
        before = stream_length(p)
        r = httpx.post(f"{url}/webhooks/{endpoint}", content=body, headers={**headers,
                                                                           "Content-Type": "application/json"})
        assert r.status_code < 500, f"{endpoint} {kind}: {r.status_code} {r.text[:200]}"
        if r.status_code >= 400:
            assert r.json()["error"] and r.json()["message"], kind
            assert stream_length(p) == before, f"{endpoint} {kind}: refused but stored"


def test_unknown_paths_share_one_metric_label(served: tuple[Pipeline, str]) -> None:
    _, url = served
    for i in range(30):
        assert httpx.post(f"{url}/webhooks/probe-{i}", content=b"{}").status_code == 404
    text = httpx.get(f"{url}/metrics").text
    assert "probe-" not in text
    assert 'opsbot_webhook_latency_seconds_count{source="unknown"} 30.0' in text


def test_a_webhook_asked_with_another_method_says_post(served: tuple[Pipeline, str]) -> None:
    _, url = served
    for endpoint in ("alertmanager", "sentry"):
        r = httpx.get(f"{url}/webhooks/{endpoint}")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert r.json()["error"] == "method_not_allowed" and "POST" in r.json()["message"]


def test_a_failure_inside_a_webhook_is_a_500_in_words(settings: Settings) -> None:
    """An unexpected exception (here the clock the app was given fails) never reaches the sender as a trace."""
    def broken_clock() -> datetime:
        raise OSError("clock_gettime failed")

    opened = quiet_settings(settings, alertmanager_token=None, alertmanager_open=True)
    with ThreadedServer(create_app(opened, prefix="test:clock:", now=broken_clock)) as server:
        r = httpx.post(f"{server.url}/webhooks/alertmanager", content=encode(good_am()))
    assert r.status_code == 500 and r.json()["error"] == "internal_error" and "retry" in r.json()["message"]
    assert "clock_gettime" not in r.text and "Traceback" not in r.text


def test_ready_and_metrics_when_up(served: tuple[Pipeline, str]) -> None:
    p, url = served
    not_yet = httpx.get(f"{url}/readyz")
    assert not_yet.status_code == 503 and "consumer group does not exist yet" in not_yet.json()["message"]
    p.stream.ensure_group()  # what every worker does first
    assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
    text = httpx.get(f"{url}/metrics").text
    for name in ("opsbot_alerts_received_total", "opsbot_webhook_latency_seconds_bucket",
                 "opsbot_last_alert_received_timestamp_seconds", "opsbot_triage_duration_seconds",
                 "opsbot_cards_posted", "opsbot_actions"):
        assert name in text, name
    assert 'outcome="rejected"' in text
    json.dumps(text)  # exposition is text


def test_a_grafana_managed_alert_is_accepted_as_the_same_alert(served: tuple[Pipeline, str]) -> None:
    """Grafana's webhook contact point: Alertmanager's shape, version "1", with orgId, title, state, message
    and per-alert dashboard, panel and silence URLs (grafana.com/docs/grafana/latest/alerting/)."""
    p, url = served
    alert = {**am_alert({"alertname": "HighErrorRate", "namespace": "shop", "service": "checkout",
                         "severity": "critical", "grafana_folder": "shop"}, {"summary": "5xx above 5%"}),
             "dashboardURL": "https://grafana.example.com/d/abc",
             "panelURL": "https://grafana.example.com/d/abc?viewPanel=2",
             "silenceURL": "https://grafana.example.com/alerting/silence/new", "values": {"B": 0.07},
             "valueString": "[ var='B' labels={} value=0.07 ]"}
    grafana = {**am_payload([alert], external_url="https://grafana.example.com/"), "version": "1", "orgId": 1,
               "title": "[FIRING:1] HighErrorRate shop checkout", "state": "alerting", "message": "5xx above 5%"}
    before = stream_length(p)
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(grafana), headers=AUTH)
    assert r.status_code == 200 and r.json()["alerts"] == 1, r.text
    assert stream_length(p) == before + 1
    [received] = p.stream.latest(1)
    stored = received.alert
    assert stored is not None and (stored.source, stored.name, stored.status, stored.severity) == ("alertmanager", "HighErrorRate",
                                                                            "firing", "P0")
    assert {link.title for link in stored.links} >= {"Dashboard", "Panel", "Silence", "Grafana"}


def test_the_stored_delivery_is_masked_and_the_worker_reads_its_alerts_whole(served: tuple[Pipeline, str]) -> None:
    """Redact at the source: the stream holds the delivery as masked at the webhook (labels, annotations and the
    links alike), and the alerts the worker builds from it keep everything else."""
    p, url = served
    dsn = "postgres://checkout:Sup3rS3cretPw0rd@db.shop:5432/checkout"
    token = "ghp_" + "A1b2C3d4E5" * 4
    labels = {"alertname": "DbDown", "namespace": "shop", "service": "checkout", "severity": "warning",
              "api_token": "tok-9f8e7d6c5b"}
    payload = am_payload([am_alert(labels, {"description": f"checkout cannot reach {dsn}"},
                                   generator_url=f"http://prom:9090/graph?g0.expr=up%3D%3D0&access_token={token}")])
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(payload), headers=AUTH)
    assert r.status_code == 200 and r.json()["alerts"] == 1, r.text
    [(_, fields)] = p.stream.client.xrevrange(p.stream.stream, count=1)
    stored = repr(fields)
    assert "[REDACTED]" in stored
    for secret in ("Sup3rS3cretPw0rd", "tok-9f8e7d6c5b", token):
        assert secret not in stored, secret
    [received] = p.stream.latest(1)
    alert = received.alert
    assert alert is not None and (alert.name, alert.severity, alert.namespace, alert.service) == (
        "DbDown", "P2", "shop", "checkout")
    assert alert.annotations["description"] == "checkout cannot reach postgres://checkout:[REDACTED]@db.shop:5432/checkout"
    assert alert.expr == "up==0" and token not in alert.model_dump_json()
