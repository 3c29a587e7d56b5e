"""`opsbot mcp` as an MCP client meets it: the official SDK's client, the server as a subprocess over stdio and
over streamable HTTP, against the sandbox. A read returns the cluster's pods; a change becomes a pending action
whose card reaches the chat (the Telegram fake) and nothing runs until an approver decides; the policy refuses a
viewer in words; over HTTP only a listed bearer token gets in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from typer.testing import CliRunner

from bot import messages
from bot.cli.main import app
from bot.polling import poll
from bot.settings import Settings, load_settings
from bot.wiring import build_door
from sandbox import procs
from sandbox.manager import Sandbox
from tests.support.fake_telegram import FakeTelegram, running
from tests.support.serve_process import OPSBOT, config_file, serving

GROUP = -100888
TOKEN = "alice-token-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


def _config(sandbox: Sandbox, tmp_path: Path, identity: str, kubeconfig: Path,
            fake: FakeTelegram | None = None) -> tuple[Path, int]:
    """The sandbox's settings on their own Redis prefix and Kubernetes, the stdio identity, Alice's HTTP token
    (slack:U0OPERATOR) and, with `fake`, the Telegram chat that gets the cards."""
    chat = {"telegram": {"bot_token": fake.token, "base_url": fake.base_url,  # type: ignore[attr-defined]
                         "allowed_chat_ids": [GROUP], "alert_chat_id": GROUP}} if fake else {}
    return config_file(sandbox, tmp_path / f"{identity.replace(':', '-')}.yaml", f"test:{uuid.uuid4().hex}:",
                       mcp={"identity": identity, "tokens": [{"identity": "slack:U0OPERATOR", "token": TOKEN}]},
                       kubernetes={"kubeconfig": str(kubeconfig)}, **chat)


def _stdio(config: Path) -> Client:
    return Client(StdioServerParameters(command=OPSBOT, args=["mcp", "--config", str(config)], env=dict(os.environ)))


def _text(result: object) -> str:
    return "\n".join(c.text for c in result.content)  # type: ignore[attr-defined]


async def test_an_mcp_client_lists_the_tools_and_reads_the_cluster_as_its_identity(
        sandbox: Sandbox, mutable_settings: Settings, tmp_path: Path) -> None:
    config, _ = _config(sandbox, tmp_path, "slack:U0VIEWER", mutable_settings.kubernetes.kubeconfig)
    async with _stdio(config) as client:
        offered = {t.name for t in (await client.list_tools()).tools}
        assert {"k8s_list", "k8s_pod_logs", "prom_query", "logs_search", "knowledge_search", "troubleshoot",
                "incident_list", "incident_show", "action_list", "k8s_scale"} <= offered
        assert not {n for n in offered if "approve" in n or "deny" in n}  # nothing over MCP decides

        pods = await client.call_tool("k8s_list", {"namespace": "shop"})
        assert not pods.is_error and "CrashLoopBackOff" in _text(pods) and "checkout-" in _text(pods)

        told = await client.call_tool("troubleshoot", {"namespace": "shop", "service": "checkout"})
        assert not told.is_error, _text(told)
        assert _text(told).splitlines()[1].startswith("shop/checkout: playbook ")  # the answer first, as the CLI
        assert "DATABASE_URL" in _text(told) and "evidence (" in _text(told)

        bad = await client.call_tool("k8s_list", {"namespace": "nowhere"})
        assert bad.is_error and "namespace 'nowhere' does not exist" in _text(bad)

        refused = await client.call_tool("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4})
        assert refused.is_error and "slack:U0VIEWER (viewer) may not request T2 actions such as k8s_scale" in \
            _text(refused)
    audit = build_door(load_settings(config)).audit.query(identity="slack:U0VIEWER")
    assert {("tool_call", "k8s_list", "success"), ("decision", "k8s_scale", "deny")} <= {(r.kind, r.action, r.status) for r in audit}


def _replicas(settings: Settings) -> int:
    from tests.support.doors import OPERATOR

    d = build_door(settings).run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
                                 OPERATOR)
    return int(d.data["replicas"]["desired"])


async def test_a_change_asked_over_mcp_waits_for_an_approval_in_chat_then_runs_once(
        sandbox: Sandbox, mutable_settings: Settings, fake: FakeTelegram, tmp_path: Path) -> None:
    config, port = _config(sandbox, tmp_path, "slack:U0OPERATOR", mutable_settings.kubernetes.kubeconfig, fake)
    settings = load_settings(config)
    before = _replicas(settings)
    async with _stdio(config) as client:
        asked = await client.call_tool("k8s_scale", {"namespace": "shop", "deployment": "checkout",
                                                     "replicas": before + 1})
        assert not asked.is_error, _text(asked)
        action = asked.structured_content["data"]["action_id"]
        assert f"pending approval #{action}" in _text(asked)
        assert messages.MCP_PENDING.format(action_id=action, where=messages.MCP_CARD_POSTED.format(
            platforms="telegram")) in _text(asked)
        listed = await client.call_tool("action_list", {})
        assert f"#{action}" in _text(listed) and "requested by slack:U0OPERATOR" in _text(listed)
    assert _replicas(settings) == before  # nothing ran
    done = CliRunner().invoke(app, ["action", "list", "--config", str(config)])
    assert f"#{action}  scale shop/checkout from {before} to {before + 1} replicas" in done.output, done.output

    card = fake.wait_for("sendMessage", 1, chat_id=GROUP)[0]
    markup = card.args["reply_markup"]
    buttons = [b for row in (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
               for b in row]
    approve = next(b["callback_data"] for b in buttons if "Approve" in b["text"])
    with serving(config, port, "--chat", "--workers", "1"):
        fake.wait_for("getUpdates", 1, timeout=60)
        fake.push(fake.callback_update(GROUP, 1002, card.result["message_id"], approve))  # telegram:1002: a lead
        assert poll(lambda: _replicas(settings) == before + 1 or None, 60, interval_s=0.2)
    assert build_door(settings).gate.store.get(action).state == "executed"


@contextmanager
def _http(config: Path, port: int) -> Iterator[str]:
    """`opsbot mcp --http` as a subprocess until the block ends; its endpoint's URL."""
    proc = subprocess.Popen([OPSBOT, "mcp", "--http", "--port", str(port), "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/mcp"

    def up() -> bool | None:
        try:
            return httpx.post(url, json={}, timeout=2).status_code == 401 or None
        except httpx.HTTPError:
            return None if proc.poll() is None else True
    try:
        assert poll(up, 60, interval_s=0.2) and proc.poll() is None, proc.communicate(timeout=30)[0]
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def _ping(url: str, headers: dict[str, str]) -> httpx.Response:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    return httpx.post(url, json=initialize, timeout=10, headers={
        "Accept": "application/json, text/event-stream", **headers})


async def test_over_http_only_a_listed_bearer_token_gets_in_and_acts_as_its_person(
        sandbox: Sandbox, mutable_settings: Settings, tmp_path: Path) -> None:
    config, _ = _config(sandbox, tmp_path, "slack:U0VIEWER", mutable_settings.kubernetes.kubeconfig)
    with _http(config, procs.free_port()) as url:
        assert _ping(url, {}).status_code == 401
        refused = _ping(url, {"Authorization": "Bearer not-a-token-of-anyone"})
        assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]

        http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with Client(streamable_http_client(url, http_client=http)) as client:
            assert "troubleshoot" in {t.name for t in (await client.list_tools()).tools}
            pods = await client.call_tool("k8s_list", {"namespace": "shop"})
            assert not pods.is_error and "CrashLoopBackOff" in _text(pods)
            asked = await client.call_tool("k8s_scale", {"namespace": "shop", "deployment": "checkout",
                                                         "replicas": 4})
            assert "pending approval #" in _text(asked)  # the token's person, an operator, may ask; the viewer of
            # stdio (mcp.identity) could not
    trail = build_door(load_settings(config)).audit.query(identity="slack:U0OPERATOR")
    assert {("tool_call", "k8s_list"), ("decision", "k8s_scale")} <= {(r.kind, r.action) for r in trail}
