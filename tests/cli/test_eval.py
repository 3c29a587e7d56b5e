"""`opsbot eval` through the real alert path: every shipped scenario meets its own `expect` (each expected
evidence string on the card, the expected actions and no other), and the scoring itself is strict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from bot.cards.model import Card, CardAction, EvidenceLine
from bot.cli.main import app
from bot.runs.evaluation import score
from sandbox import scenario
from sandbox.manager import Sandbox


def test_every_shipped_scenario_meets_its_own_expect(own_sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(app, ["eval", "--dir", str(own_sandbox.dir), "--json", str(out)])
    report = json.loads(out.read_text())
    failed = [line for line in result.output.splitlines() if line.startswith(("FAIL", "ERROR", "    "))]
    assert result.exit_code == 0, "\n".join(failed)
    totals = report["totals"]
    assert totals["scenarios"] == len(scenario.shipped()) >= 28
    assert totals["passed"] == totals["cards"] == totals["scenarios"]
    assert totals["evidence_found"] == totals["evidence_expected"] and totals["unexpected_actions"] == 0
    assert totals["diagnosis_found"] == totals["diagnosis_expected"]
    assert all(s["card_text"] for s in report["scores"]), "each card's text is written beside its score"
    unfixable = [s for s in report["scores"] if not s["expected_actions"]]
    assert len(unfixable) >= 5 and all("What a person should do" in s["card_text"] for s in unfixable)


SCENARIO = """
name: tiny
title: checkout crash-loops
cluster: {namespaces: [shop]}
expect:
  playbook: crashloopbackoff
  evidence: [CrashLoopBackOff, "DATABASE_URL is not set"]
  actions: [{tool: k8s_rollback, args: {namespace: shop, deployment: checkout}}]
"""


def _card(evidence: list[str], actions: list[CardAction]) -> Card:
    return Card(incident_id="inc-1", title="KubePodCrashLooping", severity="P2", status="firing",
                source="alertmanager", failing="checkout crash-loops", evidence=[
                    EvidenceLine(check="k8s_describe", text=t) for t in evidence], actions=actions,
                updated_at=datetime.now(UTC))


def test_a_missing_string_an_unexpected_action_and_a_missing_one_each_fail_the_scenario() -> None:
    sc = scenario.parse(SCENARIO)
    restart = CardAction(tool="k8s_rollout_restart", summary="restart", args={"namespace": "shop",
                                                                             "deployment": "checkout"})
    rollback = CardAction(tool="k8s_rollback", summary="roll back", args={"namespace": "shop",
                                                                         "deployment": "checkout"})
    good = score(sc, "tiny.yaml", _card(["CrashLoopBackOff: DATABASE_URL is not set"], [rollback]), 3.0)
    assert good.passed is False, "no playbook on the card while the scenario expects one"
    short = score(sc, "tiny.yaml", _card(["CrashLoopBackOff"], [rollback, restart]), 3.0)
    assert [e.text for e in short.evidence if not e.found] == ["DATABASE_URL is not set"]
    assert [a.tool for a in short.unexpected_actions] == ["k8s_rollout_restart"]
    none = score(sc, "tiny.yaml", None, None)
    assert not none.card and [a.tool for a in none.missing_actions] == ["k8s_rollback"] and not none.passed


def test_the_cause_on_the_card_but_not_in_its_diagnosis_line_fails_the_scenario() -> None:
    sc = scenario.parse(SCENARIO.replace("  playbook: crashloopbackoff\n", "  diagnosis: [cache/redis-master-0]\n"
                                         ).replace("  actions: [{tool: k8s_rollback, args: {namespace: shop, "
                                                   "deployment: checkout}}]\n", "  actions: []\n"))
    card = _card(["CrashLoopBackOff", "DATABASE_URL is not set", "cache/redis-master-0 CrashLoopBackOff"], [])
    card.diagnosis = "dependency-down: Deployment shop/checkout"
    elsewhere = score(sc, "tiny.yaml", card, 3.0)
    assert not elsewhere.passed and [e.text for e in elsewhere.diagnosis if not e.found] == ["cache/redis-master-0"]
    card.diagnosis = "dependency-down: Pod cache/redis-master-0"
    assert score(sc, "tiny.yaml", card, 3.0).passed


def test_an_invalid_scenario_file_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: x\ncluster: {namespaces: [shop]}\nexpect: {evidnce: []}\n")
    result = CliRunner().invoke(app, ["eval", str(bad), "--dir", str(tmp_path / "no-sandbox")])
    assert result.exit_code == 1
    assert "ERROR bad:" in result.output and "expect.evidnce: unknown key" in result.output
