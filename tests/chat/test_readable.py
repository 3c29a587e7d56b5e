"""Command replies people can read: a sentence and a short table, not the tool's data dumped as YAML."""

from __future__ import annotations

import pytest

from bot.chat.conversation import Conversation
from bot.chat.frontends.telegram import html_text
from bot.chat.readable import result_text
from bot.settings import Settings
from tests.support.chatkit import conversation
from tests.support.doors import Clock
from tests.support.fake_telegram import check_html
from tools.base import Status, ToolResult


@pytest.fixture
def chat(mutable_settings: Settings) -> Conversation:
    return conversation(mutable_settings, Clock())


def test_pods_are_a_table_with_the_broken_ones_first(chat: Conversation) -> None:
    text = chat.command("pods shop", "t", "slack:U0VIEWER").text
    lines = text.splitlines()
    assert lines[0] == "`k8s_list(namespace='shop')`" and "pods," in lines[1] and "healthy" in lines[1]
    header = lines[lines.index("```") + 1]
    assert header.split() == ["NAME", "STATUS", "READY", "RESTARTS", "AGE"]
    first = lines[lines.index("```") + 2].split()
    assert first[0].startswith("checkout-") and first[1] == "CrashLoopBackOff"
    assert "healthy: false" not in text and "last_termination" not in text, "no YAML of the tool's data"


def test_logs_are_grouped_by_message_then_the_newest_lines(chat: Conversation) -> None:
    text = chat.command("logs shop/checkout 2h", "t", "slack:U0VIEWER").text
    assert "matching lines from" in text and "Most frequent:" in text and "Newest:" in text
    frequent = text.split("Most frequent:")[1].split("```")[1].splitlines()
    assert frequent[1].split() == ["COUNT", "LEVEL", "SERVICE", "MESSAGE"]
    assert "DATABASE_URL is not set" in text, "the message column keeps what matters"


def test_events_and_alerts_read_as_tables(chat: Conversation) -> None:
    events = chat.command("events shop", "t", "slack:U0VIEWER").text
    assert "warnings" in events and "REASON" in events and "BackOff" in events


def test_telegram_shows_tables_preformatted() -> None:
    r = ToolResult(tool="k8s_list", status=Status.success, invocation="k8s_list(namespace='shop')", data={
        "kind": "Pod", "summary": "1 pods, 0 healthy: 1 Pending", "pods": [
            {"name": "web-<0>", "status": "Pending", "ready": "0/1", "restarts": 0, "age": "5m", "healthy": False}]})
    html = html_text(result_text(r))
    assert "<pre>NAME" in html and "web-&lt;0&gt;" in html and "```" not in html
    check_html(html)
