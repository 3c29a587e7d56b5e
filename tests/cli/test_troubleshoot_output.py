"""`opsbot troubleshoot` leads with the answer: the conclusion first, then a few lines per read; every result in
full only with --verbose."""

from __future__ import annotations

from bot.cli.knowledge import EVIDENCE_LINES, troubleshooting_text
from bot.guard.door import Caller, Door
from bot.triage.troubleshoot import troubleshoot
from knowledge.store import KnowledgeStore


def test_the_conclusion_comes_first_and_the_evidence_is_folded(
        door: Door, knowledge: KnowledgeStore, oncall: Caller) -> None:
    report = troubleshoot(door, knowledge, oncall, "shop", "checkout")
    assert report.diagnosis is not None
    out = troubleshooting_text(report, verbose=False)
    lines = out.splitlines()
    assert lines[0] == report.message and report.diagnosis.summary in lines[0]
    assert out.index("proposed actions") < out.index("evidence (")
    assert "--verbose" in out and "  replicas:" not in out, "no raw YAML without --verbose"
    per_read = out.split("evidence (")[1].split("\n  $ ")[1:]
    assert len(per_read) == len(report.evidence)
    assert all(len([x for x in read.splitlines()[1:] if not x.strip().startswith("…")]) <= EVIDENCE_LINES
               for read in per_read)
    assert len(lines) < 60

    full = troubleshooting_text(report, verbose=True)
    assert full.splitlines()[0] == report.message and "  replicas:" in full and len(full) > 2 * len(out)
