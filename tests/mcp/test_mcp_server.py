"""`opsbot mcp` as an MCP client meets it: the official SDK's client, the server as a subprocess over stdio and
over streamable HTTP, against the sandbox. A read returns the cluster's pods; a change becomes a pending action
whose card reaches the chat (the Telegram fake) and nothing runs until an approver decides; the policy refuses a
viewer in words; over HTTP only a listed bearer token gets in."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
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
from tests.support.serve_process import OPSBOT, config_file

GROUP = -100888
TOKEN = "alice-token-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


def _config(sandbox: Sandbox, tmp_path: Path, identity: str, kubeconfig: Path, fake: FakeTelegram | None = None,
            prefix: str | None = None) -> Path:
    chat = {"telegram": {"bot_token": fake.token, "base_url": fake.base_url,  # type: ignore[attr-defined]
                         "allowed_chat_ids": [GROUP], "alert_chat_id": GROUP}} if fake else {}
    path, _ = config_file(sandbox, tmp_path / f"{identity.replace(':', '-')}.yaml", prefix or f"test:{uuid.uuid4().hex}:",
                          mcp={"identity": identity, "tokens": [{"identity": "slack:U0OPERATOR", "token": TOKEN}]},
                          kubernetes={"kubeconfig": str(kubeconfig)}, **chat)
    return path


def _stdio(config: Path) -> Client:
    return Client(StdioServerParameters(command=OPSBOT, args=["mcp", "--config", str(config)], env=dict(os.environ)))


def _text(result: object) -> str:
    return "\n".join(c.text for c in result.content)  # type: ignore[attr-defined]


async def test_an_mcp_client_lists_the_tools_and_reads_the_cluster_as_its_identity(
        sandbox: Sandbox, mutable_settings: Settings, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path, "slack:U0VIEWER", mutable_settings.kubernetes.kubeconfig)
    async with _stdio(config) as client:
        offered = {t.name for t in (await client.list_tools()).tools}
        assert {"k8s_list", "k8s_pod_logs", "prom_query", "logs_search", "knowledge_search", "troubleshoot",
                "incident_list", "incident_show", "action_list", "k8s_scale"} <= offered
        assert not {n for n in offered if "approve" in n or "deny" in n}  # nothing over MCP decides

        pods = await client.call_tool("k8s_list", {"namespace": "shop"})
        assert not pods.is_error and "CrashLoopBackOff" in _text(pods) and "checkout-" in _text(pods)

        bad = await client.call_tool("k8s_list", {"namespace": "nowhere"})
        assert bad.is_error and "namespace 'nowhere' does not exist" in _text(bad)

        refused = await client.call_tool("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4})
        assert refused.is_error and "slack:U0VIEWER (viewer) may not request T2 actions such as k8s_scale" in \
            _text(refused)
    audit = build_door(load_settings(config)).audit.query(identity="slack:U0VIEWER")
    assert {("tool_call", "k8s_list", "success"), ("decision", "k8s_scale", "deny")} <= {(r.kind, r.action, r.status) for r in audit}
