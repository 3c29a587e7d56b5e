"""Sentry end to end: signed deliveries in, one card per incident, one opsbot comment per issue, edited later."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis
from pydantic import SecretStr

from bot.cards.poster import ConsolePoster
from bot.cards.sentry_writer import SentryClient, SentryError, SentryWriter
from bot.intake.pipeline import Pipeline
from bot.intake.webhooks.server import ThreadedServer
from bot.intake.webhooks.synthetic import encode, sentry_headers, sentry_issue
from bot.settings import Settings
from bot.wiring import redis_client
from tests.support.alerting import pipeline, quiet_settings, serving
from tests.support.fake_sentry import FakeSentry

SECRET = "whsec-test"
TOKEN = "sntrys_test_token"


@pytest.fixture
def fake() -> Iterator[tuple[FakeSentry, str]]:
    f = FakeSentry(token=TOKEN)
    with ThreadedServer(f.app()) as server:
        yield f, server.url


def with_sentry(settings: Settings, url: str, token: str | None = TOKEN) -> Settings:
    s = quiet_settings(settings, sentry_client_secret=SecretStr(SECRET))
    return s.model_copy(update={"sentry": s.sentry.model_copy(update={
        "base_url": url, "token": SecretStr(token) if token else None, "timeout_s": 5.0, "retries": 3})})


def deliver(url: str, payload: dict, resource: str = "issue", request_id: str | None = None) -> httpx.Response:
    body = encode(payload)
    return httpx.post(f"{url}/webhooks/sentry", content=body,
                      headers=sentry_headers(SECRET, body, resource=resource, request_id=request_id))


def drain(p: Pipeline) -> None:
    w = p.worker("w")
    p.stream.ensure_group()
    while w.step(block_ms=None):
        pass


def event_alert(issue_id: str) -> dict:
    return {"action": "triggered", "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
            "data": {"event": {"issue_id": issue_id, "title": "ZeroDivisionError: division by zero", "level": "error",
                               "culprit": "checkout.views in total", "event_id": "e1",
                               "web_url": f"https://sentry.example/issues/{issue_id}/events/e1/",
                               "tags": [["environment", "prod"], ["namespace", "shop"], ["browser", "Chrome"]]},
                     "triggered_rule": "checkout errors"}}


def test_one_comment_is_created_then_updated_through_429(settings: Settings, fake: tuple[FakeSentry, str]) -> None:
    sentry, sentry_url = fake
    poster = ConsolePoster()
    p = pipeline(with_sentry(settings, sentry_url), poster)
    issue = "4242"
    with serving(p) as server:
        sentry.throttle_next = 1  # the first API call is rate-limited once: the client waits Retry-After
        assert deliver(server.url, sentry_issue(issue, "ZeroDivisionError: division by zero", level="fatal"),
                       request_id="r1").status_code == 200
        drain(p)
        [note] = sentry.comments(issue)
        assert "opsbot analysis" in note["data"]["text"] and "P0" in note["data"]["text"]
        assert sentry.calls[:2] == [("POST", f"/api/0/issues/{issue}/comments/")] * 2

        # the issue alert rule for the same issue: the same incident, no new card, no new comment
        assert deliver(server.url, event_alert(issue), resource="event_alert").status_code == 200
        drain(p)
        assert len(poster.posts()) == 1 and not poster.updates()

        # a replayed delivery is refused and changes nothing
        assert deliver(server.url, sentry_issue(issue, "x"), request_id="r1").status_code == 409

        # resolved, then regressed: the card is edited twice, the comment updated in place
        assert deliver(server.url, sentry_issue(issue, "ZeroDivisionError: division by zero", action="resolved"),
                       request_id="r2").status_code == 200
        drain(p)
        assert poster.updates()[-1].card.status == "resolved"
        assert deliver(server.url, sentry_issue(issue, "ZeroDivisionError: division by zero", action="unresolved"),
                       request_id="r3").status_code == 200
        drain(p)
    assert len(sentry.comments(issue)) == 1
    assert sentry.comments(issue)[0]["id"] == note["id"]
    assert ("PUT", f"/api/0/issues/{issue}/comments/{note['id']}/") in sentry.calls
    assert len(poster.posts()) == 1 and [u.card.status for u in poster.updates()] == ["resolved", "firing"]
    assert p.sentry.comment_id(issue) == note["id"]


def test_without_a_token_write_back_is_off_and_the_card_still_posted(
        settings: Settings, fake: tuple[FakeSentry, str]) -> None:
    sentry, sentry_url = fake
    poster = ConsolePoster()
    p = pipeline(with_sentry(settings, sentry_url, token=None), poster)
    with serving(p) as server:
        assert deliver(server.url, sentry_issue("77", "KeyError")).status_code == 200
        drain(p)
    assert len(poster.posts()) == 1 and not p.sentry.enabled
    assert sentry.calls == []


def test_a_comment_deleted_in_sentry_is_recreated_and_an_already_posted_one_found(
        settings: Settings, fake: tuple[FakeSentry, str]) -> None:
    sentry, sentry_url = fake
    s = with_sentry(settings, sentry_url)
    client: redis.Redis = redis_client(s)
    writer = SentryWriter(s.sentry, client, f"test:sentry:{id(sentry)}:")
    first = writer.upsert("9", "analysis v1")
    sentry.notes["9"].clear()  # a human deleted it
    second = writer.upsert("9", "analysis v2")
    assert second != first and [n["data"]["text"] for n in sentry.comments("9")] == ["analysis v2"]
    # our id was lost (e.g. Redis flushed) and Sentry refuses the identical text: find ours instead
    client.delete(writer._key("9"))
    assert writer.upsert("9", "analysis v2") == second
    assert len(sentry.comments("9")) == 1


def test_the_client_reports_auth_errors_and_gives_up_after_retries(settings: Settings,
                                                                   fake: tuple[FakeSentry, str]) -> None:
    sentry, sentry_url = fake
    bad = with_sentry(settings, sentry_url, token="wrong").sentry
    with pytest.raises(SentryError, match="401"):
        SentryClient(bad).create_comment("1", "x")
    dead = bad.model_copy(update={"base_url": "http://127.0.0.1:9", "retries": 1, "timeout_s": 0.5})
    waits: list[float] = []
    with pytest.raises(SentryError, match="after 2 tries"):
        SentryClient(dead, sleep=waits.append).create_comment("1", "x")
    assert waits == [0.5]
