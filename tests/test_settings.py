"""One settings object: defaults, a YAML file, OPSBOT_ environment variables on top, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import load_settings


def test_yaml_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text("prometheus: {url: 'http://prom:9090'}\nelasticsearch: {password: hunter2}\n")
    monkeypatch.setenv("OPSBOT_PROMETHEUS__URL", "http://from-env:9090")
    monkeypatch.setenv("OPSBOT_LIMITS__MAX_ITEMS", "7")
    s = load_settings(config)
    assert s.prometheus.url == "http://from-env:9090"
    assert s.limits.max_items == 7
    assert s.elasticsearch.password is not None
    assert s.elasticsearch.password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(s) and "hunter2" not in s.model_dump_json()


def test_unknown_setting_is_a_startup_error(tmp_path: Path) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text("prometheus: {uri: 'http://typo:9090'}\n")
    with pytest.raises(ValidationError, match="uri"):
        load_settings(config)


def test_missing_settings_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        load_settings(tmp_path / "nowhere.yaml")


def test_the_command_line_identity_is_a_cli_identity(tmp_path: Path) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text("cli: {identity: 'cli:alice'}\n")
    assert load_settings(config).cli.identity == "cli:alice"
    config.write_text("cli: {identity: 'slack:U0LEAD'}\n")  # the command line never passes for a chat user
    with pytest.raises(ValidationError, match="cli.identity"):
        load_settings(config)


@pytest.mark.parametrize(("mcp", "wrong"), [
    ("{tokens: [{identity: 'slack:U0A', token: 'same-token-0123456789'}, "
     "{identity: 'slack:U0B', token: 'same-token-0123456789'}]}", "two people share one token"),
    ("{tokens: [{identity: 'opsbot:triage', token: 'token-of-no-one-0123'}]}", "opsbot's own identities"),
    ("{tokens: [{identity: 'slack:U0A', token: 'short'}]}", "mcp.tokens.0.token\n.*at least 16"),
    ("{servers: [{name: ext, command: [x], url: 'http://x/mcp'}]}", "either `command` or `url`"),
])
def test_mcp_settings_refuse_what_would_blur_who_calls(tmp_path: Path, mcp: str, wrong: str) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text(f"mcp: {mcp}\n")
    with pytest.raises(ValidationError, match=wrong):
        load_settings(config)


def test_mcp_tokens_are_secrets(tmp_path: Path) -> None:
    from bot.config.reference import effective

    config = tmp_path / "opsbot.yaml"
    config.write_text("mcp: {tokens: [{identity: 'slack:U0A', token: 'alice-secret-0123456789'}]}\n")
    s = load_settings(config)
    assert s.mcp.tokens[0].identity == "slack:U0A"
    assert "alice-secret" not in repr(s) and "alice-secret" not in str(effective(s))
