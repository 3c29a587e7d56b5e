"""A silence goes to the Alertmanager of the card's cluster: cluster b names its own Alertmanager (a real one, of
its own), its alert's card is silenced there, and the install's Alertmanager holds no silence of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.cards.poster import ConsolePoster
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.settings import Settings
from tests.support.alerting import pipeline, quiet_settings, serving, wait_for
from tests.support.alertmanager import PrivateAlertmanager, private_alertmanager
from tests.support.doors import Clock, door_with_clock
from tools.settings import AlertmanagerSettings, ClusterSettings


@pytest.fixture
def b_alertmanager(tmp_path: Path) -> Iterator[PrivateAlertmanager]:
    with private_alertmanager(tmp_path) as a:
        yield a


def test_a_card_from_cluster_b_is_silenced_in_bs_alertmanager(settings: Settings,
                                                               b_alertmanager: PrivateAlertmanager) -> None:
    k8s = settings.kubernetes
    b_own = AlertmanagerSettings(url=b_alertmanager.url)
    clusters = {"a": ClusterSettings(kubeconfig=k8s.kubeconfig),
                "b": ClusterSettings(kubeconfig=k8s.kubeconfig, alertmanager=b_own)}
    s = quiet_settings(settings.model_copy(update={"kubernetes": k8s.model_copy(
        update={"clusters": clusters, "default_cluster": "a"})}))
    door = door_with_clock(s, Clock())
    p = pipeline(s, ConsolePoster(), door=door)
    with serving(p, workers=1) as server:
        b_alertmanager.notify(f"{server.url}/webhooks/alertmanager")
        chat = Conversation(door, Agent(s, door), ["shop"], silencer=p.silencer)
        b_alertmanager.fire({"alertname": "KubePodNotReady", "namespace": "shop", "pod": "cart-1",
                             "severity": "warning", "cluster": "b"})
        card = wait_for(lambda: p.cards.get("inc-1"), 30, "the card of b's alert")
        assert card.cluster == "b"
        done = chat.command("silence inc-1 1h", "t", "slack:U0OPERATOR")
        assert not done.private and "silenced in Alertmanager until" in done.text, done.text
        silence_id = p.cards.get("inc-1").silence.id
        assert [x["id"] for x in b_alertmanager.active_silences()] == [silence_id]
        installs = httpx.get(f"{settings.alertmanager.url}/api/v2/silences").json()
        assert silence_id not in [x["id"] for x in installs]
        assert "unsilenced" in chat.command("unsilence inc-1", "t", "slack:U0OPERATOR").text
        assert b_alertmanager.active_silences() == []  # lifted where it was made
