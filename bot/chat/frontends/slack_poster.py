"""Slack's alert cards: posted (in the alert channel or a route's, mentioning the route's people), edited, their
thread and graph under them, through a Web API client that waits out rate limits as Slack asks."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.cards.model import Card
from bot.cards.routing import Route, route_for
from bot.cards.slack import render_slack, render_slack_thread
from bot.cards.store import MessageRef
from bot.cards.strings import GRAPH

PLATFORM = "slack"
MAX_FILE_TITLE = 250  # a file's title


def slack_client(token: str, base_url: str) -> WebClient:
    """A Web API client that waits out `ratelimited` (HTTP 429, Retry-After) and retries a dropped
    connection, as every opsbot client of Slack must."""
    return WebClient(token=token, base_url=base_url,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3), ConnectionErrorRetryHandler()])


class SlackPoster:
    """Posts and edits alert cards in the alert channel, or the channel a route gives the card, mentioning the
    route's people (the Publisher keeps the channel and ts in the card store)."""

    platform = PLATFORM

    def __init__(self, client: WebClient, channel: str, routes: list[Route] | None = None):
        self.client, self.channel, self.routes = client, channel, routes or []

    def post(self, card: Card) -> MessageRef:
        route, body = route_for(card, self.routes), render_slack(card)
        if route.slack_mention:
            body["text"] = f"{route.slack_mention} {body['text']}"  # the notification's text: it pings them
        r = self.client.chat_postMessage(channel=route.slack_channel or self.channel, **body)
        return MessageRef(platform=PLATFORM, message_id=r["ts"], channel=r["channel"])

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        self.client.chat_update(channel=ref.channel or self.channel, ts=ref.message_id, **render_slack(card))
        return ref

    def thread(self, ref: MessageRef, card: Card) -> None:
        """The card's thread as replies under it: every line the card leaves out, in messages Slack accepts."""
        for part in render_slack_thread(card):
            self.client.chat_postMessage(channel=ref.channel or self.channel, thread_ts=ref.message_id, text=part,
                                         unfurl_links=False, unfurl_media=False)

    def attach(self, ref: MessageRef, card: Card, png: bytes) -> None:
        """The graph as a file in the card's thread (files upload v2; the app needs the files:write scope)."""
        self.client.files_upload_v2(content=png, filename="graph.png", title=card.title[:MAX_FILE_TITLE],
                                    alt_txt=GRAPH, channel=ref.channel or self.channel, thread_ts=ref.message_id)

    def reply(self, ref: MessageRef, text: str) -> None:
        self.client.chat_postMessage(channel=ref.channel or self.channel, thread_ts=ref.message_id, text=text)

    def say(self, text: str, channel: str | None = None) -> None:
        self.client.chat_postMessage(channel=channel or self.channel, text=text)
