"""The graph under a new alert card: Alertmanager's alert through the pipeline, the hour of its expression from
the sandbox's Prometheus, the PNG in the card's Slack thread and as a Telegram reply, once; without data or
Prometheus the card posts all the same, says why, and nothing is uploaded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError

from bot.cards import strings as S
from bot.cards.model import Card
from bot.chat.frontends.slack_poster import SlackPoster, slack_client
from bot.chat.frontends.telegram_poster import TelegramPoster
from bot.intake.fingerprint import fingerprint
from bot.intake.pipeline import Pipeline, build_pipeline
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings, TelegramSettings
from bot.triage.triage import Triage
from sandbox import scenario
from tests.support.alerting import label_evidence, quiet_settings, serving
from tests.support.chatkit import served
from tests.support.doors import SCENARIO, make_door
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.slack_workspace import CHANNEL

GROUP = -100123
PNG = b"\x89PNG\r\n\x1a\n"
LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout", "severity": "critical"}
Fakes = tuple[FakeSlack, FakeTelegram, list]


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    """Slack and Telegram on loopback, and the posters of the alert channel and chat onto them."""
    slack, telegram = FakeSlack(), FakeTelegram()
    with served(slack.app()) as s, served(telegram.app()) as t:
        yield slack, telegram, [
            SlackPoster(slack_client(slack.token, f"{s.url}/api/"), CHANNEL),
            TelegramPoster(TelegramSettings(bot_token=SecretStr(telegram.token), base_url=f"{t.url}/bot"), GROUP)]
    assert not slack.errors(), f"Slack would have rejected: {[(c.method, c.error) for c in slack.errors()]}"
    assert not telegram.errors(), f"Telegram would have rejected: {[(c.method, c.error) for c in telegram.errors()]}"


def pipeline(settings: Settings, posters: list, backends: Settings) -> Pipeline:
    """The pipeline as `opsbot serve` builds it (graphs on by default), its door onto `backends`."""
    door = make_door(backends)
    return build_pipeline(quiet_settings(settings), posters, prefix=f"test:{uuid.uuid4().hex}:", door=door,
                          triage=Triage(door, collect=label_evidence))


def deliver(p: Pipeline, url: str, expr: str, status: str = "firing") -> Card:
    """Alertmanager's notification of `expr` to the webhook at `url`, triaged by one worker until the stream is
    drained; the card."""
    ends = datetime.now(UTC) if status == "resolved" else None
    alert = am_alert(LABELS, {"summary": "checkout pods are crash-looping"}, status=status, ends_at=ends,
                     generator_url=f"http://prometheus:9090/graph?g0.expr={quote(expr)}&g0.tab=1")
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(am_payload([alert])))
    assert r.status_code == 200, r.text
    worker = p.worker("w")
    p.stream.ensure_group()
    while worker.step(block_ms=None):
        pass
    incident = p.incidents.by_fingerprint(fingerprint("alertmanager", LABELS))
    card = p.cards.get(incident.id) if incident else None
    assert card is not None
    return card


def test_a_new_card_gets_its_graph_in_the_slack_thread_and_as_a_telegram_reply_once(
        settings: Settings, fakes: Fakes) -> None:
    slack, telegram, posters = fakes
    [rule] = scenario.load(SCENARIO).alerts
    p = pipeline(settings, posters, settings)
    with serving(p) as server:
        card = deliver(p, server.url, rule.expr)
        resolved = deliver(p, server.url, rule.expr, status="resolved")
    assert not card.could_not_run, "drawn: nothing to report"
    [posted] = [c for c in slack.made("chat.postMessage") if "thread_ts" not in c.args]
    ts = posted.result["ts"]
    replies = [c for c in slack.made("chat.postMessage") if c.args.get("thread_ts") == ts]
    assert replies and f"*{S.EVIDENCE_ALL}*" in replies[0].args["text"], "the card's thread, as a reply under it"
    [upload] = slack.shared(CHANNEL, ts)
    assert upload.data is not None and upload.data.startswith(PNG) and upload.filename == "graph.png"
    [completed] = slack.made("files.completeUploadExternal")
    assert completed.args["thread_ts"] == ts and completed.args["channel_id"] == CHANNEL
    assert completed.result["files"][0]["mimetype"] == "image/png"
    [card_message] = [c for c in telegram.made("sendMessage") if "reply_parameters" not in c.args]
    thread = [c for c in telegram.made("sendMessage") if c.args.get("reply_parameters") == {
        "message_id": card_message.result["message_id"]}]
    assert thread and f"<b>{S.EVIDENCE_ALL}:</b>" in thread[0].args["text"], "the thread, as a reply to the card"
    [photo] = telegram.photos(GROUP)
    assert photo["photo"].startswith(PNG) and photo["reply_to"] == card_message.result["message_id"]
    assert photo["plain"] == card.title

    assert resolved.status == "resolved"
    assert slack.made("chat.update") and telegram.made("editMessageText"), "the card is edited"
    assert len(slack.made("files.getUploadURLExternal")) == 1 and len(telegram.made("sendPhoto")) == 1, \
        "the graph goes under the first post only"
    assert len([c for c in slack.made("chat.postMessage") if c.args.get("thread_ts")]) == len(replies) and \
        len(telegram.made("sendMessage")) == 1 + len(thread), "the resolution changes no line of the thread"


@pytest.mark.parametrize(("expr", "down", "reason"), [
    ("opsbot_no_such_metric > 1", False, S.GRAPH_NO_DATA),
    ("up == 0", True, S.GRAPH_UNREACHABLE),
])
def test_without_data_or_prometheus_the_card_still_posts_says_why_and_uploads_nothing(
        expr: str, down: bool, reason: str, settings: Settings, down_settings: Settings, fakes: Fakes) -> None:
    slack, telegram, posters = fakes
    backends = down_settings if down else settings
    p = pipeline(settings, posters, backends)
    with serving(p) as server:
        card = deliver(p, server.url, expr)
    why = reason.format(url=backends.prometheus.url)
    assert why in card.could_not_run
    [posted, *slack_thread] = slack.made("chat.postMessage")
    [sent, *telegram_thread] = telegram.made("sendMessage")
    assert S.COULD_NOT_RUN_LINE.split(":")[0] in str(posted.args["attachments"]) and \
        S.COULD_NOT_RUN_LINE.split(":")[0] in sent.args["text"], "both cards say a read could not run"
    assert why in str(posted.args["attachments"]) + "".join(m.args["text"] for m in slack_thread), "and why"
    assert why in sent.args["text"] + "".join(m.args["text"] for m in telegram_thread)
    assert not [c for c in slack.calls if c.method.startswith("files.")] and not telegram.made("sendPhoto")


def png_header(width: int, height: int) -> bytes:
    """The start of a PNG of that size: the signature and the IHDR chunk (what the fakes read)."""
    return PNG + b"\x00\x00\x00\rIHDR" + width.to_bytes(4) + height.to_bytes(4) + b"\x08\x06\x00\x00\x00"


def test_the_fakes_refuse_the_uploads_slack_and_telegram_refuse() -> None:
    slack, telegram, png = FakeSlack(), FakeTelegram(), png_header(800, 300)
    with served(slack.app()) as s, served(telegram.app()) as t:
        api = slack_client(slack.token, f"{s.url}/api/")
        ts = api.chat_postMessage(channel=CHANNEL, text="the card")["ts"]
        with pytest.raises(SlackApiError, match="missing_argument"):
            api.files_getUploadURLExternal(filename="graph.png", length=0)
        declared = api.files_getUploadURLExternal(filename="graph.png", length=len(png))
        assert httpx.post(declared["upload_url"], content=png[:-1]).status_code == 400, "fewer bytes than declared"
        with pytest.raises(SlackApiError, match="file_not_found"):  # its bytes never arrived
            api.files_completeUploadExternal(files=[{"id": declared["file_id"]}], channel_id=CHANNEL, thread_ts=ts)
        assert httpx.post(declared["upload_url"], content=png).status_code == 200
        with pytest.raises(SlackApiError, match="invalid_thread_ts"):
            api.files_completeUploadExternal(files=[{"id": declared["file_id"]}], channel_id=CHANNEL, thread_ts="1.2")

        bot = f"{t.url}/bot{telegram.token}"
        card = httpx.post(f"{bot}/sendMessage", json={"chat_id": GROUP, "text": "the card"}).json()["result"]
        reply = json.dumps({"message_id": card["message_id"]})
        for photo, fields, error in [
            (b"GIF89a", {}, "IMAGE_PROCESS_FAILED"),
            (png_header(9000, 2000), {}, "PHOTO_INVALID_DIMENSIONS"),
            (png, {"caption": "x" * 1025}, "message caption is too long"),
            (png, {"reply_parameters": json.dumps({"message_id": 999})}, "message to be replied not found"),
            (None, {"photo": "https://example.com/graph.png"}, "wrong remote file identifier"),
        ]:
            files = {"photo": ("graph.png", photo, "image/png")} if photo else None
            r = httpx.post(f"{bot}/sendPhoto", data={"chat_id": str(GROUP), **fields}, files=files)
            assert r.status_code == 400 and error in r.json()["description"], (error, r.text)
        r = httpx.post(f"{bot}/sendPhoto", data={"chat_id": str(GROUP), "reply_parameters": reply},
                       files={"photo": ("graph.png", png, "image/png")})
        assert r.json()["ok"] and telegram.photos(GROUP)[0]["photo"] == png, "the bytes arrive as sent"
