"""The demo, as the README's main command runs it, on a sandbox of its own: the transcript must show the
whole story, from the alert to the audit trail."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot import messages as M
from bot.cards import strings as S
from bot.cli.main import app
from sandbox.manager import Sandbox


@pytest.mark.parametrize("name", ["crashloop-missing-env", "bad-deploy-5xx"])
def test_demo_tells_the_whole_story(own_sandbox: Sandbox, name: str) -> None:
    result = CliRunner().invoke(app, ["demo", "--dir", str(own_sandbox.dir), "--scenario", name])
    out = result.output
    assert result.exit_code == 0, out
    steps = ["== 1. loading scenario", "== 2. waiting for Prometheus", "the card's graph", ".png",
             "== 3. cli:demo acknowledges the card",
             "acknowledged by cli:demo", "the card now says: Acknowledged by cli:demo", "== 4. cli:demo (on-call lead) approves",
             "== 5. the cluster after the fix", "== 6. waiting for the alert to resolve", "opsbot's verdict on #",
             "== 7. written to knowledge",
             "== the audit trail of this run"]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "roll back shop/checkout from revision 2" in out and "→ done: roll back shop/checkout" in out
    assert ", 0 healthy" not in out.split("== 5.")[1].split("== 6.")[0], "the cluster recovered"
    resolved = out.split("== 6.")[1]
    verdict = resolved.split("opsbot's verdict on #")[1].split("\n")[0]
    assert ": fixed: " in verdict and "ready" in verdict and "after the rollback, alert resolved at" in verdict, verdict
    assert any(verdict.split(": ", 1)[1] in line for line in resolved.splitlines() if line.startswith("[in the thread")), \
        "said in the card's thread too"
    learned = out.split("== 7. written to knowledge")[1].split("what was done, as learned: ")[1].split("\n")[0]
    assert verdict.split(": ", 1)[1] in learned, "knowledge keeps the verdict, not only 'executed'"
    assert "RESOLVED" in resolved, "the card was edited to resolved"
    proposed = out.split("== 2.")[1].split("== 3.")[0]
    assert "restart" not in proposed.split("Proposed actions:")[1], "a restart clears neither failure"
    trail = out.split("== the audit trail of this run")[1]
    for kind in ("acknowledge", "decision", "approval", "execution"):
        assert kind in trail
    assert "KubePodCrashLooping" in out.split("== 7. written to knowledge")[1] or name != "crashloop-missing-env"
    assert "demo complete" in out
    assert out.count(f"\n{S.ACTIONS}:") == 1, "the card is printed once; its edits print only what they change"
    assert any(line.startswith("+ ") and "RESOLVED" in line for line in resolved.splitlines())
    assert "{namespace}" not in out and "{deployment}" not in out, "playbook steps show the values triage used"
    draft = resolved.split(M.PM_TITLE.split("{")[0])[1]
    assert M.PM_TIMELINE in draft and M.PM_CARDED.split("(")[0] in draft and M.PM_FOLLOW_UPS in draft, draft
    figures = out.split("== the outcome figures of this run")[1]
    assert "fix success (verified): 1 of 1 action fixed it (100%)" in figures, figures
    assert M.REPORT_ACTIONS.format(n=1, auto=0, approved=1) in figures, figures
