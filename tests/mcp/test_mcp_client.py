"""opsbot as an MCP client: a small MCP server the test starts (tests/support/mcp_ops_server.py, over stdio) lends
its tools; only those the settings allow and the policy lists join the door, arguments are checked against the
server's schema, results are masked and audited, and a changing tool runs only after an approval."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from bot.guard.door import Caller, Door
from bot.settings import McpServer, McpSettings, Settings
from bot.wiring import build_door
from sandbox.manager import DEMO_POLICY
from tests.support import mcp_ops_server
from tools.base import Status

OPERATOR = Caller(identity="slack:U0OPERATOR", via="chat")


def _door(settings: Settings, tmp_path: Path, tools: dict[str, str], rules: str = "") -> tuple[Door, Path]:
    """A door whose settings name the test server with these allowed tools, under the demo policy listing
    ext_lookup (T0) and ext_restart (T1), `rules` first among its rules."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(DEMO_POLICY.read_text().replace("  open_issue: T4\n",
                                                      "  open_issue: T4\n  ext_lookup: T0\n  ext_restart: T1\n")
                      .replace("rules:\n", f"rules:\n{rules}"))
    done = tmp_path / "done.txt"
    server = McpServer(name="ext", command=[sys.executable, mcp_ops_server.__file__, str(done)],
                       tools=tools)  # type: ignore[arg-type]
    s = settings.model_copy(update={"policy_file": policy, "mcp": McpSettings(servers=[server])})
    return build_door(s, prefix=f"test:{uuid.uuid4().hex}:"), done


def test_only_the_allowed_and_listed_tools_join_and_reads_come_back_masked_and_audited(
        settings: Settings, tmp_path: Path) -> None:
    door, done = _door(settings, tmp_path, {"lookup": "T0", "restart": "T1", "notes": "T0"})
    assert {"ext_lookup", "ext_restart"} <= set(door.tools)
    assert not {"ext_notes", "ext_wipe"} & set(door.tools)  # the policy does not list notes; nothing allows wipe
    assert "k8s_list" in door.tools

    r = door.run("ext_lookup", {"service": "checkout"}, OPERATOR)
    assert r.status == Status.success and "owned by team-payments" in r.data["content"][0]
    assert mcp_ops_server.TOKEN not in str(r.model_dump())

    wrong = door.run("ext_lookup", {"name": "checkout"}, OPERATOR)
    assert wrong.status == Status.error and "'service' is a required property" in wrong.error

    unlisted = door.run("ext_wipe", {}, OPERATOR)
    assert unlisted.status == Status.error and "no tool 'ext_wipe'" in unlisted.error
    assert not done.exists()

    trail = door.audit.query(identity="slack:U0OPERATOR")
    assert [(x.action, x.status) for x in trail] == [("ext_lookup", "success"), ("ext_lookup", "error"),
                                                     ("ext_wipe", "error")]


def test_a_changing_tool_waits_for_an_approval_then_runs_once(settings: Settings, tmp_path: Path) -> None:
    door, done = _door(settings, tmp_path, {"restart": "T1"})
    asked = door.run("ext_restart", {"name": "cache"}, OPERATOR)
    assert asked.status == Status.approval_required, asked
    assert not done.exists()  # nothing ran

    action = asked.data["action_id"]
    assert door.gate.decide(action, "slack:U0OPERATOR", approve=True).ok is False  # not their own
    verdict = door.gate.decide(action, "slack:U0LEAD", approve=True)
    assert verdict.ok, verdict.message
    assert done.read_text() == "cache\n"


@pytest.mark.parametrize(("tier", "rules"), [
    ("T2", ""),  # the policy lists ext_restart as T1
    ("T1", "  - {when: {tier: [T1]}, decide: allow, reason: restarts run at once}\n")])
def test_a_changing_tool_stays_out_unless_the_policy_lists_it_at_its_tier_and_asks_for_an_approval(
        settings: Settings, tmp_path: Path, tier: str, rules: str) -> None:
    door, _ = _door(settings, tmp_path, {"restart": tier, "lookup": "T0"}, rules)
    assert "ext_restart" not in door.tools and "ext_lookup" in door.tools
