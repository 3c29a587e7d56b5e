"""One card per Alertmanager group: its alerts as lines (resolved ones marked), one triage, one post; the card
resolves when the group's last alert does; `intake.cards: alert` keeps a card per alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.cards import strings as S
from bot.cards.model import Card
from bot.cards.poster import ConsolePoster
from bot.cards.slack import render_slack, text_size
from bot.cards.telegram import MAX_TEXT, render_telegram, size
from bot.cards.text import render_text
from bot.intake.pipeline import Pipeline
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings
from tests.support.alerting import label_evidence, pipeline, quiet_settings, serving

T0 = datetime.now(UTC) - timedelta(minutes=10)


def pod(i: int) -> dict[str, str]:
    return {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"checkout-{i}", "severity": "warning",
            "job": "kube-state-metrics", "container": "app"}


def firing(i: int) -> dict:
    return am_alert(pod(i), {"summary": f"Pod shop/checkout-{i} is crash looping"}, starts_at=T0)


def resolved(i: int) -> dict:
    return am_alert(pod(i), {"summary": f"Pod shop/checkout-{i} is crash looping"}, status="resolved",
                    starts_at=T0, ends_at=T0 + timedelta(minutes=5))


@pytest.fixture
def s(settings: Settings) -> Settings:
    return quiet_settings(settings)


def notify(url: str, alerts: list[dict]) -> None:
    """What Alertmanager sends for the group: every alert of it, each in its current state."""
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(am_payload(alerts, group_by=("alertname",
                                                                                               "namespace"))))
    assert r.status_code == 200, r.text


def drain(p: Pipeline, workers: int = 1) -> None:
    ws = [p.worker(f"w{i}") for i in range(workers)]
    p.stream.ensure_group()
    while sum(w.step(block_ms=None, count=3) for w in ws):
        pass


def test_a_group_of_three_is_one_card_with_a_line_each_and_resolves_with_its_last_alert(s: Settings) -> None:
    poster, learned = ConsolePoster(), []
    p = pipeline(s, poster)
    p.learn = learned.append
    with serving(p) as server:
        notify(server.url, [firing(0), firing(1), firing(2)])
        drain(p, workers=2)
        [post] = poster.posts()
        card = p.cards.get(post.incident_id)
        assert [g.subject for g in card.group] == ["Pod shop/checkout-0", "Pod shop/checkout-1",
                                                   "Pod shop/checkout-2"]
        assert p.incidents.count() == 3  # each alert is still its own incident
        assert S.group_heading(3, 0) in render_text(card)

        notify(server.url, [resolved(0), firing(1), firing(2)])  # one pod recovered
        drain(p)
        card = p.cards.get(post.incident_id)
        assert card.status == "firing" and S.group_heading(2, 1) in render_text(card)
        assert [g.status for g in card.group] == ["firing", "firing", "resolved"]  # firing first
        assert not learned

        notify(server.url, [resolved(0), resolved(1), resolved(2)])
        drain(p)
    card = p.cards.get(post.incident_id)
    assert card.status == "resolved" and card.resolved_at is not None
    assert S.group_heading(0, 3) in render_text(card)
    assert len(poster.posts()) == 1, "every change edited the one card"
    assert [c.incident_id for c in learned] == [post.incident_id], "learned once, when the group resolved"


def test_a_group_that_resolved_and_fires_again_gets_a_new_card(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p) as server:
        notify(server.url, [firing(0), firing(1)])
        drain(p)
        notify(server.url, [resolved(0), resolved(1)])
        drain(p)
        notify(server.url, [am_alert(pod(1), {"summary": "again"}, starts_at=T0 + timedelta(minutes=8))])
        drain(p)
    first, second = poster.posts()
    assert first.incident_id != second.incident_id
    assert p.cards.get(second.incident_id).status == "firing"


def test_per_alert_cards_are_a_setting(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s.model_copy(update={"intake": s.intake.model_copy(update={"cards": "alert"})}), poster)
    with serving(p) as server:
        notify(server.url, [firing(0), firing(1), firing(2)])
        drain(p)
    assert len(poster.posts()) == 3
    assert all(not p.cards.get(x.incident_id).group for x in poster.posts())


def test_a_fifty_alert_group_card_fits_slack_and_telegram(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p) as server:
        notify(server.url, [firing(i) for i in range(50)])
        drain(p, workers=3)
    [post] = poster.posts()
    card: Card = p.cards.get(post.incident_id)
    assert len(card.group) == 50
    text = render_text(card)
    assert S.more_lines(40, card.incident_id) in text
    blocks = render_slack(card)["attachments"][0]["blocks"]
    assert text_size(blocks) <= 12_000 and len(blocks) <= 50
    assert card.group[0].subject in str(blocks) and "40 more lines" in str(blocks)
    assert size(render_telegram(card)["text"]) <= MAX_TEXT and "40 more lines" in render_telegram(card)["text"]


def test_a_line_that_arrives_before_its_leads_card_waits_for_it(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p) as server:
        notify(server.url, [firing(0)])
        notify(server.url, [firing(0), firing(1)])  # the group again, a second alert in it
    p.stream.ensure_group()
    w = p.worker("w")
    first, second = p.stream.read("w", count=10, block_ms=None)
    [(key, lead)] = first.keys()
    p.groups.lead(lead, p.incidents.observe(key, lead).incident)  # its worker began triage…
    w._process([second, first])  # …and the line's worker is quicker
    assert p.stream.stats()["pending"] == 1, "the line is not acknowledged while its card does not exist"
    assert w.reclaim() == 2 and p.stream.stats()["pending"] == 0  # the second delivery, both its alerts
    [post] = poster.posts()
    assert len(p.cards.get(post.incident_id).group) == 2


def test_a_lead_that_never_gets_its_card_gives_the_group_to_the_next_alert(s: Settings) -> None:
    poster = ConsolePoster()
    broken = pod(0)["pod"]

    def collect(alert, incident):  # triage of one pod keeps failing (its backend answers garbage, say)
        if alert.labels.get("pod") == broken:
            raise RuntimeError("triage failed")
        return label_evidence(alert, incident)

    p = pipeline(s.model_copy(update={"intake": s.intake.model_copy(update={"max_attempts": 2})}), poster,
                 collect=collect)
    with serving(p) as server:
        notify(server.url, [firing(0), firing(1)])
    drain(p)
    for _ in range(4):  # the lead is retried, then buried; the line waiting on it takes the lead
        p.worker("w").reclaim()
    [post] = poster.posts()
    assert p.cards.get(post.incident_id).labels["pod"] == "checkout-1"
    assert p.stream.stats()["dead"] == 1
