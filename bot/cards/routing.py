"""Routing: which Slack channel and Telegram chat get an incident's card, by namespace, team label and
severity; the first route that matches wins, and a card no route matches goes to the default alert channel
and chat. A route may mention people when it posts (a Slack user group, Telegram @handles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from policies.schema import Severity

if TYPE_CHECKING:  # the settings hold routes: loading them needs no Card (nor the alert model under it)
    from bot.cards.model import Card


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: list[str] | None = Field(None, description="any of these namespaces")
    team: list[str] | None = Field(None, description="any of these values of the alert's `team` label")
    severity: list[Severity] | None = Field(None, description="any of these severities (the policy's P0…INFO)")

    def matches(self, card: Card) -> bool:
        ns = card.labels.get("namespace") or (card.target.namespace if card.target else None)
        return ((self.namespace is None or ns in self.namespace)
                and (self.team is None or card.labels.get("team") in self.team)
                and (self.severity is None or card.severity in self.severity))


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Match = Field(default_factory=Match, description="all given keys must match; none: every card")
    slack_channel: str | None = Field(None, description="channel id for these cards (default: slack.alert_channel)")
    telegram_chat_id: int | None = Field(None, description="chat for these cards (default: telegram.alert_chat_id)")
    slack_mention: str | None = Field(None, description="who to notify in Slack, e.g. <!subteam^S0PAYMENTS>")
    telegram_mention: str | None = Field(None, description="who to notify in Telegram, e.g. @alice @bob")


def route_for(card: Card, routes: list[Route]) -> Route:
    """The first route whose match fits the card; the default (empty) route when none does."""
    return next((r for r in routes if r.match.matches(card)), Route())
