"""`opsbot config`: the reference of every key stays equal to the settings object, `show` never prints a
secret, `check` names what is off or unreachable, and the logging options work after any subcommand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from bot import messages
from bot.cli.main import app, global_options_first
from bot.config.reference import keys, markdown
from bot.settings import Settings

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "configuration.md"


def test_the_configuration_reference_is_the_settings_objects_own() -> None:
    assert DOC.read_text() == markdown(), "regenerate it: opsbot config reference > docs/configuration.md"
    undescribed = [k.path for k in keys() if not k.description]
    assert not undescribed, f"every key says what it does: {', '.join(undescribed)}"
    assert "| `slack.bot_token` | `OPSBOT_SLACK__BOT_TOKEN` | secret, optional | `unset` |" in DOC.read_text()


def _config(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_show_prints_the_settings_in_force_with_every_secret_masked(tmp_path: Path) -> None:
    path = _config(tmp_path, {"slack": {"bot_token": "xoxb-1234-abcdefSECRET", "alert_channel": "C0ALERTS"},
                              "redis": {"password": "hunter2-redis"}})
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["slack"]["bot_token"] == "********" and shown["slack"]["alert_channel"] == "C0ALERTS"
    assert shown["redis"]["password"] == "********" and shown["slack"]["app_token"] is None
    assert "SECRET" not in result.output and "hunter2" not in result.output


def test_show_prints_the_routes_example_of_docs_oncall(tmp_path: Path) -> None:
    text = (DOC.parent / "oncall.md").read_text()
    example = next(block for block in text.split("```yaml\n")[1:] if block.startswith("routes:")).split("```")[0]
    path = tmp_path / "opsbot.yaml"
    path.write_text(example)
    result = CliRunner().invoke(app, ["config", "show", "--config", str(path)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)["routes"]
    given = yaml.safe_load(example)["routes"]
    assert len(shown) == len(given) == 2
    for route, printed in zip(given, shown, strict=True):
        assert {k: v for k, v in printed["match"].items() if v is not None} == route["match"]
        assert {k: printed[k] for k in route if k != "match"} == {k: v for k, v in route.items() if k != "match"}


def test_check_fails_on_a_combination_that_cannot_work_and_names_it(tmp_path: Path) -> None:
    path = _config(tmp_path, {"slack": {"bot_token": "xoxb-1"}, "telegram": {"webhook_url": "https://x/tg"}})
    result = CliRunner().invoke(app, ["config", "check", "--offline", "--config", str(path)])
    assert result.exit_code == 1
    assert "FAIL slack: bot_token without app_token (Socket Mode) or signing_secret" in result.output
    assert "FAIL telegram: webhook_url without webhook_secret" in result.output
    assert "OK   policy:" in result.output and "2 failed" in result.output


def test_check_reaches_each_backend_and_names_the_one_that_does_not_answer(settings: Settings,
                                                                          tmp_path: Path) -> None:
    data = json.loads(settings.model_dump_json())
    data["alertmanager"]["url"] = "http://127.0.0.1:9"
    data["webhooks"] = {"alertmanager_token": "t" * 24}
    result = CliRunner().invoke(app, ["config", "check", "--config", str(_config(tmp_path, data))])
    assert result.exit_code == 1, result.output
    for backend in ("redis", "prometheus", "elasticsearch", "kubernetes"):
        assert f"OK   {backend}:" in result.output
    assert "FAIL alertmanager: http://127.0.0.1:9: ConnectError" in result.output


def test_check_reaches_the_log_store_logs_backend_names(settings: Settings, tmp_path: Path) -> None:
    data = json.loads(settings.model_dump_json())
    data["logs"] = {"backend": "loki"}
    data["elasticsearch"]["url"] = "http://127.0.0.1:9"  # not used with logs.backend: loki, so not checked
    ok = CliRunner().invoke(app, ["config", "check", "--config", str(_config(tmp_path, data))])
    assert f"OK   loki: {settings.loki.url} answers" in ok.output
    assert "elasticsearch" not in ok.output

    data["loki"]["url"] = "http://127.0.0.1:9"
    down = CliRunner().invoke(app, ["config", "check", "--config", str(_config(tmp_path, data))])
    assert down.exit_code == 1
    assert "FAIL loki: http://127.0.0.1:9: ConnectError" in down.output


def test_the_logging_options_work_after_any_subcommand(tmp_path: Path) -> None:
    assert global_options_first(["serve", "--workers", "2", "--log-format", "json", "--log-level=INFO"]) == \
        ["--log-format", "json", "--log-level=INFO", "serve", "--workers", "2"]
    opsbot = Path(sys.executable).parent / "opsbot"  # the console script pyproject installs
    done = subprocess.run([str(opsbot), "config", "check", "--offline", "--log-format", "json",
                           "--config", str(_config(tmp_path, {}))], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "OK   playbooks:" in done.stdout


def test_a_model_on_a_closed_port_or_without_a_name_fails_the_check(settings: Settings, tmp_path: Path,
                                                                     dead_url: str) -> None:
    data = json.loads(settings.model_dump_json())
    data["webhooks"] = {"alertmanager_token": "t" * 24}
    data["llm"] = {"base_url": f"{dead_url}/v1", "model": "qwen2.5-coder-1.5b"}
    result = CliRunner().invoke(app, ["config", "check", "--config", str(_config(tmp_path, data))])
    assert result.exit_code == 1, result.output
    assert f"FAIL llm: {dead_url}/v1 (model qwen2.5-coder-1.5b): ConnectError" in result.output
    assert "1 failed" in result.output

    offline = _config(tmp_path, {"llm": {"base_url": "http://127.0.0.1:8080/v1"}})
    result = CliRunner().invoke(app, ["config", "check", "--offline", "--config", str(offline)])
    assert result.exit_code == 1, result.output
    assert "FAIL llm: base_url http://127.0.0.1:8080/v1 without model: the model name is missing" in result.output
    assert "OK   llm: no model" not in result.output and "1 failed" in result.output


def test_an_alertmanager_intake_that_refuses_everything_is_named_by_check_and_serve(settings: Settings,
                                                                                     tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.cli.serve import startup_warnings
    from bot.intake.webhooks.app import create_app
    from bot.intake.webhooks.synthetic import am_alert, am_payload, encode

    body = encode(am_payload([am_alert({"alertname": "KubePodCrashLooping", "namespace": "shop"})]))
    closed = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"alertmanager_open": False, "alertmanager_token": None})})
    assert messages.AM_INTAKE_REFUSES in startup_warnings(closed)
    answer = TestClient(create_app(closed)).post("/webhooks/alertmanager", content=body,
                                                     headers={"Content-Type": "application/json"})
    assert answer.status_code == 403 and "HTTP 403" in messages.AM_INTAKE_REFUSES, "the warning says what it answers"
    result = CliRunner().invoke(app, ["config", "check", "--offline", "--config", str(_config(tmp_path, {}))])
    assert f"WARN webhooks: {messages.AM_INTAKE_REFUSES}" in result.output

    tiny = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(update={"max_body_bytes": 200})})
    [refusal] = [w for w in startup_warnings(tiny) if "max_body_bytes" in w]
    assert refusal.startswith("webhooks.max_body_bytes is 200 bytes, below the smallest Alertmanager delivery")
    answer = TestClient(create_app(tiny)).post("/webhooks/alertmanager", content=body,
                                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "HTTP 413" in refusal
    assert not [w for w in startup_warnings(settings) if "refuses every delivery" in w], "the sandbox's intake works"


def test_an_alertmanager_whose_webhooks_cannot_reach_the_intake_is_named(settings: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from bot.cli.serve import startup_warnings
    from bot.config.check import check
    from bot.intake.webhooks.app import create_app
    from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
    from tests.support.alertmanager import private_alertmanager

    tokened = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"alertmanager_token": SecretStr("t" * 24)})})
    [unsent] = [w for w in startup_warnings(tokened) if "without a bearer token" in w]
    assert unsent.startswith(f"the Alertmanager at {settings.alertmanager.url} posts to http") and "HTTP 401" in unsent
    body = encode(am_payload([am_alert({"alertname": "KubePodCrashLooping", "namespace": "shop"})]))
    answer = TestClient(create_app(tokened)).post("/webhooks/alertmanager", content=body,
                                                      headers={"Content-Type": "application/json"})
    assert answer.status_code == 401, "what the sandbox's Alertmanager would get, as the warning says"
    assert f"WARN alertmanager: {unsent}" in [f.line() for f in check(tokened)]

    with private_alertmanager(tmp_path) as am:
        am.notify("http://127.0.0.1:9/somewhere-else")
        elsewhere = settings.model_copy(update={"alertmanager": settings.alertmanager.model_copy(
            update={"url": am.url})})
        expected = messages.AM_NO_RECEIVER.format(url=am.url, path="/webhooks/alertmanager")
        assert expected in startup_warnings(elsewhere)
    assert not [w for w in startup_warnings(settings) if "Alertmanager at" in w], "the sandbox's reaches opsbot"


def test_a_served_model_passes_the_check_and_a_wrong_key_fails_it(settings: Settings) -> None:
    from bot.config.check import check
    from tests.support.fake_openai import KEY, MODEL, FakeOpenAI, llm_settings, serve

    with serve(FakeOpenAI(KEY, MODEL)) as url:
        lines = [f.line() for f in check(llm_settings(settings, url)) if f.what == "llm"]
        assert lines == [f"OK   llm: {url} (model {MODEL}) answers"]
        [wrong] = [f.line() for f in check(llm_settings(settings, url, key="sk-wrong")) if f.what == "llm"]
        assert wrong.startswith(f"FAIL llm: {url} (model {MODEL}): HTTPStatusError") and "401" in wrong
        [other] = [f.line() for f in check(llm_settings(settings, url, model="gpt-4o")) if f.what == "llm"]
        assert other.startswith("WARN llm:") and f"the server lists {MODEL}, not gpt-4o" in other
