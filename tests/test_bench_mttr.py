"""bench/mttr.py's report: a fix that did not verify is shown as not fixed with the verdict's words and counts
against the verified-fix rate; it is never left out, and it has no MTTR of its own (the figures read from the
sandbox are in docs/oncall.md)."""

from __future__ import annotations

import pytest

from bench.mttr import Run, report


def test_a_fix_that_did_not_verify_is_reported_and_counts_against_the_rate(
        capsys: pytest.CaptureFixture[str]) -> None:
    fixed = Run(scenario="crashloop-missing-env", starts_at=0, received=10, posted=11, approved=11, executed=12,
                resolved=25, verdict_at=30, verdict="fixed: 3/3 ready under a minute after the rollback", fixed=True)
    step = Run(scenario="connections-exhausted-worker-scaled", starts_at=0, received=2, posted=4, approved=4,
               executed=5, verdict_at=370, verdict="not fixed: 25/25 ready but the alert still fires 6 min after "
               "the scale")
    assert (fixed.mttr, fixed.opsbot_share, step.mttr, step.opsbot_share) == (30, 1 + 1 + 5, None, None)
    report([fixed, step])
    out = capsys.readouterr().out
    assert "NOT FIXED: not fixed: 25/25 ready but the alert still fires 6 min after the scale" in out
    assert "verified fixes 1/2 = 50%  target > 90%: MISSES" in out
    assert "MTTR     mean 30s, median 30s, worst 30s  target < 300s: meets (mean); 0 scenarios at or over it" in out
