"""Autonomy earned in policy: an alert arrives, triage diagnoses a crash loop after a release and proposes the
rollback, and a policy rule whose verified track record holds (seeded through outcome learning on the real Redis)
runs it against the Kubernetes emulator with nobody clicking; the audit names the rule, verification gives its
verdict on the card in Slack and Telegram, and a rollback that did not fix it gets its undo proposed for a person
to approve, never run by itself. Shadow mode and the kill switch make the same rule ask, and the card says why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from bot import wiring
from bot.cards import strings as S
from bot.cli.main import app
from bot.guard.gate import POLICY_IDENTITY, track_records
from bot.guard.pause import PauseSwitch
from bot.intake.pipeline import Pipeline, build_pipeline
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings
from bot.triage.knowledge_hook import KnowledgeTriage
from bot.triage.triage import Triage
from knowledge.store import KnowledgeStore
from policies.engine import ActionRequest, PolicyEngine
from policies.schema import load_policy
from sandbox import scenario
from sandbox.manager import DEMO_POLICY
from tests.support.alerting import quiet_settings, serving
from bot.guard.door import Caller, Door
from tests.support.earning import REASON, earning_policy, seed
from tests.support.slack_workspace import card_text
from tests.support.verifying import Loop, approvals, loop, tg_card, thread
from tools.base import Status

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout", "severity": "warning"}
SUMMARY = {"summary": "checkout pods are crash-looping"}


def image(door: Door) -> str:
    """The image shop/checkout's pod template runs now, read from the cluster."""
    r = door.run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
                 Caller(identity="test", via="cli"))
    return str(r.data["image"])


def executed(door: Door) -> list[tuple[str, str, str]]:
    """(tool, who executed it, status) of every execution the audit holds."""
    return [(r.action, r.identity, r.status) for r in door.audit.query() if r.kind == "execution"]


class Served:
    """One opsbot process on the test's clock: the alert webhook, a triage worker with the playbooks and outcome
    learning, cards on both chat fakes, and its verifier."""

    def __init__(self, settings: Settings, chats: dict[str, Any], knowledge: KnowledgeStore, url: str,
                 lp: Loop, pipeline: Pipeline):
        self.settings, self.chats, self.knowledge, self.url, self.lp, self.pipeline = \
            settings, chats, knowledge, url, lp, pipeline
        self.worker = pipeline.worker("autonomy")
        self.t0 = datetime.now(UTC) - timedelta(minutes=5)  # now, not at import: a long suite runs it much later

    def alert(self, status: str = "firing") -> None:
        ends = datetime.now(UTC) if status == "resolved" else None
        body = am_payload([am_alert(LABELS, SUMMARY, status=status, starts_at=self.t0, ends_at=ends)])
        assert httpx.post(f"{self.url}/webhooks/alertmanager", content=encode(body)).status_code == 200
        self.worker.step(block_ms=None)

    def line(self, action_id: str) -> str:
        return next(x for x in card_text(self.lp.slack_card()).splitlines() if f"#{action_id}" in x)

    def audit(self) -> list[Any]:
        return self.lp.door.audit.query(incident="inc-1")


@pytest.fixture
def opsbot(mutable_settings: Settings, chats: dict[str, Any], knowledge: KnowledgeStore,
           tmp_path: Path) -> Iterator[Any]:
    """`opsbot(settings=None, mode='enforce')`: opsbot served under the earning policy (on the private cluster)."""
    stack: list[Any] = []

    def start(settings: Settings | None = None, mode: str = "enforce") -> Served:
        s = quiet_settings(settings or mutable_settings).model_copy(
            update={"policy_file": earning_policy(tmp_path, mode)})
        lp = loop(s, chats)
        kt = KnowledgeTriage(lp.door, knowledge, lp.outcomes)
        triage = Triage(lp.door, collect=kt.collect, playbook=kt.playbook, similar=kt.similar)
        p = build_pipeline(s, lp.publisher.posters, prefix=lp.prefix, door=lp.door, triage=triage,
                           outcomes=lp.outcomes)
        p.stream.ensure_group()
        server = serving(p)
        stack.append(server)
        return Served(s, chats, knowledge, server.__enter__().url, lp, p)

    yield start
    for server in stack:
        server.__exit__(None, None, None)


def test_an_earned_rollback_runs_without_a_click_is_verified_and_counted(opsbot: Any, chats: dict[str, Any]) -> None:
    o = opsbot()
    seed(o.lp.outcomes, fixed=10)
    o.alert()

    [action] = o.pipeline.cards.get("inc-1").actions
    assert (action.tool, action.status, action.automatic) == ("k8s_rollback", "executed", "ran")
    assert image(o.lp.door) == "registry.local/shop/checkout:1.4.2", "rolled back in the cluster, nobody clicked"
    assert executed(o.lp.door) == [("k8s_rollback", POLICY_IDENTITY, "success")], "the audit names the policy"
    line = o.line(action.action_id)
    assert S.AUTOMATIC["ran"] in line and "allowed automatically by rule 1" in line, line
    assert S.AUTOMATIC["ran"] in tg_card(chats, o.lp)["plain"]
    assert approvals(o.lp.slack_card()) == set(), "nothing to approve"
    decision = next(r for r in o.audit() if r.kind == "decision")
    assert decision.status == "allow" and REASON in decision.summary and "10 verified, 10 fixed" in decision.summary

    assert o.lp.verifier.tick() == [], "3/3 ready, but the alert still fires: no verdict yet"
    o.lp.clock.advance(minutes=1)
    o.alert("resolved")  # the served worker's tick verifies it
    line = o.line(action.action_id)
    assert "fixed: 3/3 ready" in line and "after the rollback" in line, line
    slack, telegram = thread(chats, o.lp)
    assert any("fixed: 3/3 ready" in x for x in slack) and any("fixed: 3/3 ready" in x for x in telegram)
    [stats] = o.lp.outcomes.stats("crashloopbackoff")
    assert (stats.total, stats.succeeded) == (11, 11), "its own verdict joins the track record"


@pytest.fixture
def rollback_cannot_fix(private_scenario: Any, tmp_path: Path) -> Settings:
    """crashloop-missing-env, but the release before also crash-loops (its pods lack DATABASE_URL too): a rollback
    runs and fixes nothing."""
    source = yaml.safe_load((scenario.SCENARIO_DIR / "crashloop-missing-env.yaml").read_text())
    first, second = source["cluster"]["deployments"][0]["revisions"]
    first["env"] = {"LOG_LEVEL": "info"}
    first["pods"] = second["pods"]
    path = tmp_path / "both-releases-crash.yaml"
    path.write_text(yaml.safe_dump(source))
    return private_scenario(str(path))


def test_an_earned_rollback_that_did_not_fix_it_gets_its_undo_proposed_not_run(
        opsbot: Any, chats: dict[str, Any], rollback_cannot_fix: Settings) -> None:
    o = opsbot(rollback_cannot_fix)
    seed(o.lp.outcomes, fixed=10)
    o.alert()
    [action] = o.pipeline.cards.get("inc-1").actions
    assert (action.status, action.automatic) == ("executed", "ran")

    o.lp.clock.advance(minutes=2)
    assert o.lp.verifier.tick() == [action.action_id]
    line = o.line(action.action_id)
    assert "not fixed: " in line and "CrashLoopBackOff" in line and "2 min after the rollback" in line, line
    [undo_id] = approvals(o.lp.slack_card())
    undo = o.lp.door.gate.store.get(undo_id)
    assert undo is not None and (undo.tool, undo.state, undo.via) == ("k8s_rollback", "pending", "verify")
    assert undo.decision.automatic is None, "the undo is never the track record's"
    assert executed(o.lp.door) == [("k8s_rollback", POLICY_IDENTITY, "success")], "the undo waits for a person"
    said = S.UNDO_PROPOSED.format(id=undo_id, summary=undo.preview.summary)
    slack, telegram = thread(chats, o.lp)
    assert any(said in x for x in slack) and any(said in x for x in telegram)
    [stats] = o.lp.outcomes.stats("crashloopbackoff")
    assert (stats.total, stats.succeeded) == (11, 10)
    assert o.lp.outcomes.last_failure("crashloopbackoff", "k8s_rollback") is not None

    # the same rule now asks: its record holds a failure within the last 24 hours
    gate = o.lp.door.gate
    d = gate.engine.decide(ActionRequest(tool="k8s_rollback", namespace="shop", target="shop/deployment/checkout",
                                         requester="opsbot:triage", severity="P2", deployment="checkout",
                                         failure_mode="crashloopbackoff"), [], o.lp.clock(),
                           records=gate.track_record)
    assert (d.outcome, d.automatic) == ("approve", "unproven") and "one failed within the last 24h" in d.reason


def test_in_shadow_mode_the_earned_rollback_asks_and_the_card_says_policy_would_have_run_it(
        opsbot: Any, chats: dict[str, Any]) -> None:
    o = opsbot(mode="shadow")
    seed(o.lp.outcomes, fixed=10)
    o.alert()
    [action] = o.pipeline.cards.get("inc-1").actions
    assert (action.status, action.automatic) == ("pending", "shadow")
    assert S.AUTOMATIC["shadow"] in o.line(action.action_id)
    assert S.AUTOMATIC["shadow"] in tg_card(chats, o.lp)["plain"]
    assert approvals(o.lp.slack_card()) == {action.action_id}
    assert image(o.lp.door) == "registry.local/shop/checkout:1.5.0" and executed(o.lp.door) == []

    assert o.lp.approve(action.action_id, "slack:U0LEAD").startswith("done: roll back")
    assert executed(o.lp.door) == [("k8s_rollback", "slack:U0LEAD", "success")], "a person ran it"
    line = o.line(action.action_id)
    assert "decided by slack:U0LEAD" in line and S.AUTOMATIC["shadow"] in line, line


def cli_config(settings: Settings, prefix: str, folder: Path, identity: str) -> Path:
    """The settings file `opsbot policy pause|resume --config` reads: the test's Redis keys, a command-line identity."""
    data = json.loads(settings.model_dump_json())
    data["redis"]["key_prefix"], data["cli"]["identity"] = prefix, identity
    path = folder / f"{identity.replace(':', '-')}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def policy_cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["policy", *args])
    return r.exit_code, r.output


def test_opsbot_policy_pause_makes_the_earned_rule_ask_at_once_and_resume_lets_it_run_again(
        opsbot: Any, chats: dict[str, Any], tmp_path: Path) -> None:
    o = opsbot()
    seed(o.lp.outcomes, fixed=10)
    lead = cli_config(o.settings, o.lp.prefix, tmp_path, "cli:demo")  # an on-call lead in the demo policy
    code, said = policy_cli("pause", "--reason", "release freeze", "--config", str(lead))
    assert code == 0 and "automatic actions paused by cli:demo at " in said and ": release freeze" in said, said

    o.alert()  # the served process reads the switch at the proposal: no restart
    [action] = o.pipeline.cards.get("inc-1").actions
    assert (action.status, action.automatic) == ("pending", "paused")
    line = o.line(action.action_id)
    assert S.AUTOMATIC["paused"] in line and "automatic actions are paused (by cli:demo at " in line, line
    assert "release freeze" in line and executed(o.lp.door) == []
    assert S.AUTOMATIC["paused"] in tg_card(chats, o.lp)["plain"]

    viewer = cli_config(o.settings, o.lp.prefix, tmp_path, "cli:nobody")
    code, said = policy_cli("resume", "--config", str(viewer))
    assert code == 1 and "cli:nobody (no role) may not resume automatic actions" in said, said
    code, said = policy_cli("resume", "--config", str(lead))
    assert code == 0 and "automatic actions resumed (they were paused by cli:demo at " in said, said
    trail = [(r.identity, r.action, r.status) for r in o.lp.door.audit.query() if r.kind == "policy"]
    assert trail == [("cli:demo", "policy_pause", "paused"), ("cli:nobody", "policy_resume", "refused"),
                     ("cli:demo", "policy_resume", "resumed")], trail
    code, said = policy_cli("explain", "--tool", "k8s_rollback", "--namespace", "shop", "--severity", "P2",
                            "--as", "opsbot:triage", "--name", "checkout", "--failure-mode", "crashloopbackoff",
                            "--config", str(lead))
    assert code == 0 and "decision: allow (T3, P2)" in said and "automatic actions: not paused" in said, said


def test_the_setting_pauses_automatic_actions_too(opsbot: Any, mutable_settings: Settings) -> None:
    o = opsbot(mutable_settings.model_copy(update={"autonomy_paused": True}))
    seed(o.lp.outcomes, fixed=10)
    o.alert()
    [action] = o.pipeline.cards.get("inc-1").actions
    assert (action.status, action.automatic) == ("pending", "paused")
    assert "paused (by the setting autonomy_paused)" in o.line(action.action_id)


def test_a_track_record_that_cannot_be_read_makes_the_rule_ask(settings: Settings, dead_url: str,
                                                              tmp_path: Path) -> None:
    down = settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": dead_url.replace("http://", "redis://") + "/0", "timeout_s": 0.5})})
    records = track_records(wiring.outcomes(down))
    assert records("crashloopbackoff", "k8s_rollback") is None
    engine = PolicyEngine(load_policy(earning_policy(tmp_path)))
    d = engine.decide(ActionRequest(tool="k8s_rollback", namespace="shop", target="shop/deployment/checkout",
                                    requester="opsbot:triage", severity="P2", deployment="checkout",
                                    failure_mode="crashloopbackoff"), [], datetime.now(UTC), records=records)
    assert (d.outcome, d.automatic) == ("approve", "unproven") and "could not be read: asks a person" in d.reason


def test_a_failure_mode_counts_only_for_triage_so_the_model_or_a_person_never_gets_the_earned_rule(
        opsbot: Any) -> None:
    o = opsbot()
    seed(o.lp.outcomes, fixed=10)
    for via in ("chat", "agent", "model", "cli", "mcp", "verify"):
        asker = Caller(identity="slack:U0OPERATOR", via=via, incident=f"inc-{via}", severity="P2",
                       failure_mode="crashloopbackoff")
        r = o.lp.door.run("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}, asker)
        assert r.status == Status.approval_required and r.data["automatic"] is None, (via, r)
    assert executed(o.lp.door) == [] and image(o.lp.door) == "registry.local/shop/checkout:1.5.0"


ALLOW_RESTARTS = """rules:
  - when: {tier: [T1], namespace: [shop]}
    decide: allow
    reason: "restarts in shop run at once"
"""


def test_the_pause_stops_a_plain_allow_rule_too_and_a_person_then_approves_it(
        mutable_settings: Settings, chats: dict[str, Any], tmp_path: Path) -> None:
    """A rule without a track record that allows a mutation outright (valid since the first policy file) asks a
    person while paused, whoever proposed it and with no failure mode; a person's click then runs it."""
    path = tmp_path / "allow-policy.yaml"
    path.write_text(DEMO_POLICY.read_text().replace("rules:\n", ALLOW_RESTARTS, 1))
    lp = loop(mutable_settings.model_copy(update={"policy_file": path}), chats)
    PauseSwitch(wiring.redis_client(mutable_settings), lp.prefix).pause("cli:demo", datetime.now(UTC),
                                                                        "release freeze")
    asker = Caller(identity="slack:U0OPERATOR", via="chat", incident="inc-1", severity="P2")
    r = lp.door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"}, asker)
    assert r.status == Status.approval_required and r.data["automatic"] == "paused", r
    assert "restarts in shop run at once; automatic actions are paused (by cli:demo at " in r.data["reason"]
    assert "release freeze): asks a person" in r.data["reason"] and executed(lp.door) == []
    config = cli_config(mutable_settings.model_copy(update={"policy_file": path}), lp.prefix, tmp_path, "cli:demo")
    code, said = policy_cli("whatcan", "slack:U0OPERATOR", "--config", str(config))
    allow = next(line for line in said.splitlines() if "restarts in shop run at once" in line)
    assert code == 0 and allow.endswith("release freeze): asks a person"), said
    verdict = lp.door.gate.decide(r.data["action_id"], "slack:U0OPERATOR", approve=True)
    assert verdict.ok, verdict.message
    assert executed(lp.door) == [("k8s_rollout_restart", "slack:U0OPERATOR", "success")]
