"""Limits for people: model questions per user and per channel, counted in Redis across replicas, a clear
reply when one is reached, commands never counted, and the window sliding free again."""

from __future__ import annotations

import uuid

import pytest

from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.limits import QuestionLimits
from bot.settings import Settings
from bot.wiring import redis_client
from tests.support.doors import Clock, door_with_clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


def replica(settings: Settings, clock: Clock, prefix: str) -> Conversation:
    """One frontend process: its own conversation, the limits on the shared Redis."""
    door = door_with_clock(settings, clock)
    limits = QuestionLimits(redis_client(settings), prefix, per_user=2, per_channel=3, now=clock)
    return Conversation(door, Agent(settings, door), ["shop"], limits=limits)


def test_limits_count_across_replicas_and_free_up_after_an_hour(settings: Settings, clock: Clock) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    one, two = replica(settings, clock, prefix), replica(settings, clock, prefix)
    asked = "slack:C0ONCALL:1700000000.000100"
    assert not one.ask("why is checkout failing?", asked, "slack:U0A").private
    assert not two.ask("and cart?", "slack:C0ONCALL:1700000000.000200", "slack:U0A").private
    third = one.ask("what about payments?", asked, "slack:U0A")
    assert third.private and "you have asked 2 questions of the model in the last hour" in third.text
    assert "chat.questions_per_user_per_hour" in third.text and "pods" in third.text
    assert not one.ask("pods shop", asked, "slack:U0A").private, "commands are not counted"

    assert not two.ask("is the queue backed up?", asked, "slack:U0B").private
    channel = two.ask("and now?", asked, "slack:U0C")
    assert channel.private and "this channel has asked 3 questions" in channel.text
    assert not two.ask("hello", "slack:C0OTHER:1", "slack:U0C").private, "another channel has its own count"

    clock.advance(minutes=61)
    assert not one.ask("what about payments now?", asked, "slack:U0A").private
