"""`opsbot smoke`: every hop reported; a broken one makes it exit non-zero."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from bot import messages
from bot.cards.poster import ConsolePoster
from bot.cli.main import app
from bot.intake.pipeline import build_pipeline
from bot.intake.webhooks.server import ThreadedServer
from bot.intake.webhooks.synthetic import SMOKE_ALERT
from bot.settings import Settings, load_settings
from bot.triage.triage import Triage
from sandbox.manager import Sandbox
from tests.support.alertmanager import private_alertmanager
from tests.support.alerting import label_evidence, serving
from tests.support.doors import make_door


def invoke(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args)


def config(sandbox: Sandbox, tmp_path: Path, prefix: str, **alertmanager: str) -> Path:
    """The sandbox's settings on a Redis prefix of the test's own; `alertmanager`: that section instead (none:
    the sandbox's Alertmanager, which posts to the sandbox's serve port, not to the test's webhooks)."""
    data = yaml.safe_load(sandbox.settings_file.read_text())
    data["redis"]["key_prefix"] = prefix
    data["webhooks"] = {"alertmanager_token": "tok", "sentry_client_secret": "sec"}
    if alertmanager:
        # an Alertmanager of the test's own sends no token, as the sandbox's: the intake is open to it
        data["alertmanager"] = alertmanager
        data["webhooks"] = {"alertmanager_open": True, "sentry_client_secret": "sec"}
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@contextmanager
def opsbot_served(path: Path) -> Iterator[ThreadedServer]:
    """The webhooks and one worker on the settings at `path`, triaging from the alert's labels alone."""
    settings = load_settings(path)
    door = make_door(settings)
    p = build_pipeline(settings, [ConsolePoster()], door=door, triage=Triage(door, collect=label_evidence))
    with serving(p, workers=1) as server:
        yield server


def test_smoke_reports_every_hop_of_a_working_chain(sandbox: Sandbox, tmp_path: Path) -> None:
    with private_alertmanager(tmp_path) as am:
        path = config(sandbox, tmp_path, f"test:{uuid.uuid4().hex}:", url=am.url)
        with opsbot_served(path) as server:
            am.notify(f"{server.url}/webhooks/alertmanager")
            out = invoke(["smoke", "--config", str(path), "--url", server.url, "--timeout", "20"])
            assert am.status(alertname=SMOKE_ALERT) == {}, "smoke resolved its alert in Alertmanager"
    assert out.exit_code == 0, out.output
    assert "[ok] Alertmanager delivered it to opsbot's webhook: stored" in out.output
    assert out.output.count("[ok]") == 11 and "every hop works" in out.output


def test_smoke_fails_the_alertmanager_hop_when_alertmanager_posts_elsewhere(sandbox: Sandbox, tmp_path: Path) -> None:
    path = config(sandbox, tmp_path, f"test:{uuid.uuid4().hex}:")  # the sandbox's Alertmanager: its serve port
    with opsbot_served(path) as server:
        out = invoke(["smoke", "--config", str(path), "--url", server.url, "--timeout", "5"])
    assert out.exit_code == 1, out.output
    assert "[ok] card edited on resolution" in out.output, "the direct hops still work"
    assert ("[FAIL] Alertmanager delivered it to opsbot's webhook: not received within 6s (--timeout and "
            "Alertmanager's group_wait 1s)") in out.output
    assert f"not to {server.url}/webhooks/alertmanager" in out.output, "says where Alertmanager posts instead"
    assert "every hop works" not in out.output



def test_smoke_names_the_bearer_token_alertmanager_does_not_send(sandbox: Sandbox, tmp_path: Path) -> None:
    with private_alertmanager(tmp_path) as am:
        path = config(sandbox, tmp_path, f"test:{uuid.uuid4().hex}:", url=am.url)
        data = yaml.safe_load(path.read_text())
        data["webhooks"] = {"alertmanager_token": "tok"}  # a real install's intake; this Alertmanager sends none
        path.write_text(yaml.safe_dump(data))
        with opsbot_served(path) as server:
            am.notify(f"{server.url}/webhooks/alertmanager")
            out = invoke(["smoke", "--config", str(path), "--url", server.url, "--timeout", "5"])
    assert out.exit_code == 1, out.output
    assert ("[FAIL] Alertmanager delivered it to opsbot's webhook: not received within 6s (--timeout and "
            "Alertmanager's group_wait 1s)") in out.output
    assert messages.AM_NO_TOKEN_SENT.format(url=am.url, to=f"{server.url}/webhooks/alertmanager") in out.output

def test_smoke_says_it_skipped_the_alertmanager_hop_without_its_url(sandbox: Sandbox, tmp_path: Path) -> None:
    path = config(sandbox, tmp_path, f"test:{uuid.uuid4().hex}:")
    data = yaml.safe_load(path.read_text())
    del data["alertmanager"]
    path.write_text(yaml.safe_dump(data))
    with opsbot_served(path) as server:
        out = invoke(["smoke", "--config", str(path), "--url", server.url, "--timeout", "20"])
    assert out.exit_code == 0, out.output
    assert "alertmanager → opsbot: skipped: no alertmanager.url configured" in out.output
    assert "every hop works" not in out.output and "Alertmanager → opsbot hop was skipped" in out.output


def test_smoke_exits_non_zero_when_no_worker_makes_the_card(sandbox: Sandbox, tmp_path: Path) -> None:
    path = config(sandbox, tmp_path, f"test:{uuid.uuid4().hex}:")
    settings = load_settings(path)
    p = build_pipeline(settings, [ConsolePoster()], door=make_door(settings))
    with serving(p, workers=0) as server:  # the webhook stores, but nothing triages
        out = invoke(["smoke", "--config", str(path), "--url", server.url, "--timeout", "1"])
    assert out.exit_code == 1
    assert "[ok] webhook accepted the firing alert" in out.output and "[FAIL] card produced" in out.output


def test_smoke_exits_non_zero_when_opsbot_is_not_running(sandbox: Sandbox, tmp_path: Path, dead_url: str) -> None:
    path = config(sandbox, tmp_path, "test:smoke-dead:")
    out = invoke(["smoke", "--config", str(path), "--url", dead_url])
    assert out.exit_code == 1 and "[FAIL] webhook app ready" in out.output


def test_serve_warns_about_an_open_intake_and_a_redis_that_keeps_nothing(settings: Settings) -> None:
    from bot.cli.serve import startup_warnings

    assert [w for w in startup_warnings(settings) if "alertmanager_open" in w], "the sandbox opens the intake"
    assert not [w for w in startup_warnings(settings) if "Redis" in w], "the sandbox Redis keeps an AOF"
    tokened = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"alertmanager_token": SecretStr("t")})})
    [only] = startup_warnings(tokened)
    assert "without a bearer token" in only, "the sandbox's Alertmanager does not send the token"
    dead = settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": "redis://127.0.0.1:1/0", "timeout_s": 0.5})})
    assert any("not reachable yet" in w for w in startup_warnings(dead))
