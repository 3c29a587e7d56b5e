"""The setup guides name only what exists: every setting and environment variable, every `opsbot` command
(with its options), every webhook path and every file; and the Slack app manifest asks for exactly what the
Slack frontend listens to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config.reference import keys
from bot.intake.webhooks.app import create_app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDES = sorted((ROOT / "docs" / "setup").glob("*.md")) + [
    ROOT / "docs" / n for n in ("kubernetes.md", "scaling.md", "oncall.md", "mcp.md")]
SECTIONS = set(Settings.model_fields)


def _code(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_setting_command_path_and_file_a_guide_names_exists(guide: Path) -> None:
    text = guide.read_text()
    settings, envs = {k.path for k in keys()}, {k.env for k in keys()}
    named = [c for c in _code(text) if c.split(".")[0] in SECTIONS and re.fullmatch(r"[a-z_]+\.[a-z_]+", c)]
    assert set(named) <= settings, sorted(set(named) - settings)
    assert set(re.findall(r"OPSBOT_[A-Z_]+[A-Z]", text)) <= envs
    for command in (c for c in _code(text) if c.startswith("opsbot ")):
        words = [w for w in command.split()[1:] if not w.startswith("<")]
        result = CliRunner().invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"{guide.name}: `{command}`: {result.output}"
    client = TestClient(create_app(Settings()))
    for path in set(re.findall(r"(/webhooks/[a-z]+|/healthz|/readyz|/metrics)\b", text)):
        assert client.get(path).status_code != 404, f"{guide.name}: {path} is no route of the webhook app"
    for file in set(re.findall(r"\b((?:deploy|docs)/[\w./-]+\.(?:ya?ml|md))", text)):
        assert (ROOT / file).exists(), f"{guide.name}: {file}"


def test_the_slack_manifest_asks_for_what_the_frontend_listens_to() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    source = "".join((ROOT / "bot" / "chat" / "frontends" / f).read_text() for f in ("slack.py", "slack_poster.py"))
    events = set(re.findall(r'self\.app\.event\("([a-z_.]+)"\)', source))
    commands = set(re.findall(r'self\.app\.command\("(/[a-z]+)"\)', source))
    assert events == {"app_mention", "message"} and 'channel_type") == "im"' in source, "messages: DMs …"
    assert "_replies_to_us" in source, "… and plain replies in opsbot's threads in channels"
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "message.channels", "message.groups"}
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == commands
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert "files_upload_v2" in source, "files:write is the card graph's upload"
    assert scopes == {"app_mentions:read", "im:history", "channels:history", "groups:history", "commands",
                      "chat:write", "files:write"}, \
        "each event's and call's, no more"
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]
