"""MTTD, MTTR and the verified-fix rate on the sandbox, against the loop's targets (MTTD < 1 min, MTTR < 5 min,
automatic fixes succeeding > 90 %).

    python bench/mttr.py [--window 6m] [--every 5s] [--json FILE] [SCENARIO ...]

Every shipped scenario whose `expect.actions` names an action that fixes it (a rollback, a restart, a scale) runs
through the real path, as `opsbot eval` runs it: the scenario is loaded, Prometheus fires its alert and
Alertmanager delivers it to opsbot's webhook (a Sentry scenario's issue alert is posted, signed), a worker
triages it and posts the card. A scripted approver then clicks Approve on the expected action through the path a
person's click takes (Conversation.click, as the Slack and Telegram buttons do) as the sandbox policy's on-call
leads, as many as the action's rule asks; the action runs through the door against the Kubernetes emulator and
opsbot's verification (bot/guard/verify.py, the policy's `verify.window` / `verify.every`, shortened here) gives
its verdict. A fix that does not verify is reported as not fixed, with the verdict's words.

Per scenario and in total:
  detect   alert startsAt → webhook received (Prometheus' rule evaluation and `for`, Alertmanager's grouping)
  triage   webhook received → card posted (opsbot's own share of the MTTD)
  approve  card posted → approved (scripted: ~0 s; a person's reaction time is not in these figures)
  MTTR     alert startsAt → verdict "fixed"; opsbot's share = triage + execution (approve → executed) + the
           verify tick (alert resolved → verdict); the rest is the cluster rolling out and the alert resolving.
A killed bench (SIGTERM, Ctrl-C) stops the sandbox it started.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cards.model import Card, CardAction  # noqa: E402
from bot.cards.poster import ConsolePoster  # noqa: E402
from bot.chat.agent import Agent  # noqa: E402
from bot.chat.conversation import Conversation  # noqa: E402
from bot.chat.frontends.decision import Decisions  # noqa: E402
from bot.polling import poll  # noqa: E402
from bot.runs.evaluation import Proposed, first_card, matches, settings_for  # noqa: E402
from bot.runs.served import Served, served  # noqa: E402
from bot.settings import Settings  # noqa: E402
from sandbox import scenario  # noqa: E402
from sandbox.manager import DEMO_POLICY, Sandbox  # noqa: E402
from sandbox.scenario import Scenario  # noqa: E402

APPROVERS = ("slack:U0LEAD", "slack:U0ADMIN", "telegram:1002")  # on-call leads and an admin in sandbox/policy.yaml
TARGETS = {"mttd_s": 60.0, "mttr_s": 300.0, "fix_rate": 0.90}


@dataclass
class TimedConsole(ConsolePoster):
    """The console poster, noting when each incident's card was first posted."""

    posted_at: dict[str, float] = field(default_factory=dict)

    def post(self, card: Card):  # type: ignore[no-untyped-def]
        ref = super().post(card)
        self.posted_at.setdefault(card.incident_id, time.time())
        return ref


@dataclass
class Run:
    scenario: str
    action: str = ""
    starts_at: float | None = None
    received: float | None = None
    posted: float | None = None
    approved: float | None = None
    executed: float | None = None
    resolved: float | None = None
    verdict_at: float | None = None
    verdict: str = ""
    fixed: bool = False
    error: str = ""

    def span(self, a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else b - a

    @property
    def detect(self) -> float | None:
        return self.span(self.starts_at, self.received)

    @property
    def triage(self) -> float | None:
        return self.span(self.received, self.posted)

    @property
    def mttd(self) -> float | None:
        return self.span(self.starts_at, self.posted)

    @property
    def approve(self) -> float | None:
        return self.span(self.posted, self.approved)

    @property
    def mttr(self) -> float | None:
        return self.span(self.starts_at, self.verdict_at) if self.fixed else None

    @property
    def opsbot_share(self) -> float | None:
        parts = [self.triage, self.span(self.approved, self.executed),
                 self.span(self.resolved, self.verdict_at) if self.resolved else None]
        return sum(p for p in parts if p is not None) if self.fixed else None


def fixable(sc: Scenario) -> bool:
    """A scenario whose expected action is one that changes the target (not only advice)."""
    return any(a.tool in ("k8s_rollback", "k8s_rollout_restart", "k8s_scale") for a in sc.expect.actions)


def short_policy(work: Path, window: str, every: str) -> Path:
    """The sandbox's demo policy with a short verification window for the bench."""
    policy = yaml.safe_load(DEMO_POLICY.read_text())
    policy["verify"] = {"window": window, "every": every}
    path = work / "policy-bench.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def _ts(at: datetime | None) -> float | None:
    return at.timestamp() if at else None


def _expected(sc: Scenario, card: Card) -> CardAction | None:
    """The card's pending action that the scenario expects."""
    for a in card.actions:
        proposed = Proposed(tool=a.tool, args=a.args, status=a.status)
        if a.status == "pending" and a.action_id and any(matches(e, proposed) for e in sc.expect.actions):
            return a
    return None


def approve(s: Served, settings: Settings, action: CardAction) -> tuple[str, Card | None]:
    """Approve as on-call leads, one after another, until the action is no longer pending; the last reply."""
    chat = Conversation(s.door, Agent(settings, s.door), settings.chat.namespaces, silencer=s.pipeline.silencer)
    reply, updated = "", None
    for who in APPROVERS:
        click = chat.click(action.action_id or "", who, approve=True)
        reply = click.reply.text
        if click.updated is not None:
            updated = click.updated
            Decisions(s.pipeline.cards, s.pipeline.publisher).apply(click.updated, "console")
        stored = s.door.gate.store.get(action.action_id or "")
        if stored is None or stored.state != "pending":
            break
    return reply, updated


def run_one(sb: Sandbox, sc: Scenario, settings: Settings, card_timeout: float, verdict_timeout: float) -> Run:
    out = Run(scenario=sc.name)
    settings = settings.model_copy(update={"chat": settings.chat.model_copy(
        update={"namespaces": sc.cluster.namespaces})})  # what `load` writes into the sandbox's settings
    console = TimedConsole()
    with sb.run_port() as port, served(settings, console, "mttr", workers=1, learn=False, port=port) as s:
        sb.load(sc)
        card = first_card(sc, port, console, card_timeout, interval_s=0.2)
        if card is None:
            out.error = f"no card within {card_timeout:.0f}s"
            return out
        incident = s.pipeline.incidents.get(card.incident_id)
        out.starts_at = _ts(card.started_at) or (_ts(incident.first_seen) if incident else None)
        out.received = _ts(incident.first_seen) if incident else None
        out.posted = console.posted_at.get(card.incident_id)
        action = _expected(sc, card)
        if action is None:
            out.error = "the expected action is not pending on the card: " + "; ".join(
                f"{a.summary} [{a.status}{': ' + a.reason if a.reason else ''}]" for a in card.actions)
            return out
        out.action = action.summary
        reply, updated = approve(s, settings, action)
        out.approved = time.time()
        done = next((a for a in (updated.actions if updated else []) if a.action_id == action.action_id), None)
        if done is None or done.status != "executed":
            out.error = f"not executed: {reply}"
            return out
        out.executed = _ts(done.decided_at) or out.approved

        def verdict() -> CardAction | None:
            shown = s.pipeline.cards.get(card.incident_id)
            return next((a for a in (shown.actions if shown else []) if a.action_id == action.action_id
                         and a.verdict), None)

        found = poll(verdict, verdict_timeout, interval_s=0.2)
        out.verdict_at = time.time()
        if found is None:
            out.error = f"no verdict within {verdict_timeout:.0f}s"
            return out
        shown = s.pipeline.cards.get(card.incident_id)
        out.resolved = _ts(shown.resolved_at) if shown else None
        out.verdict, out.fixed = found.verdict or "", (found.verdict or "").startswith("fixed")
    return out


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}s" if x < 10 else f"{x:.0f}s"


def _stats(xs: list[float | None]) -> tuple[float, float, float] | None:
    """(mean, median, worst) of the measured values, or None when nothing was measured."""
    vals = [x for x in xs if x is not None]
    return (statistics.fmean(vals), statistics.median(vals), max(vals)) if vals else None


def _line(name: str, xs: list[float | None], target: float | None = None) -> str:
    st = _stats(xs)
    if st is None:
        return f"  {name:<8} -"
    mean, median, worst = st
    out = f"  {name:<8} mean {_fmt(mean)}, median {_fmt(median)}, worst {_fmt(worst)}"
    if target is not None:
        over = sum(x is not None and x >= target for x in xs)
        out += (f"  target < {target:.0f}s: {'meets' if mean < target else 'MISSES'} (mean); "
                f"{over} scenario{'s' if over != 1 else ''} at or over it")
    return out


def report(runs: list[Run]) -> None:
    print(f"\n{'scenario':<42} {'detect':>7} {'triage':>7} {'MTTD':>6} {'approve':>8} {'MTTR':>6} {'opsbot':>7}  verdict")
    for r in runs:
        tail = r.verdict or r.error
        print(f"{r.scenario:<42} {_fmt(r.detect):>7} {_fmt(r.triage):>7} {_fmt(r.mttd):>6} {_fmt(r.approve):>8} "
              f"{_fmt(r.mttr):>6} {_fmt(r.opsbot_share):>7}  {'FIXED' if r.fixed else 'NOT FIXED'}: {tail}")
    fixed = sum(r.fixed for r in runs)
    rate = fixed / len(runs) if runs else 0.0
    print(f"\n{len(runs)} scenarios")
    print(_line("MTTD", [r.mttd for r in runs], TARGETS["mttd_s"]))
    print(_line("detect", [r.detect for r in runs]) + "  (Prometheus' evaluation, Alertmanager's grouping)")
    print(_line("triage", [r.triage for r in runs]) + "  (opsbot: webhook received → card posted)")
    print(_line("approve", [r.approve for r in runs]) + "  (scripted approver: no person's reaction time)")
    print(_line("MTTR", [r.mttr for r in runs], TARGETS["mttr_s"]) + "  (fixed ones only)")
    print(_line("opsbot", [r.opsbot_share for r in runs]) + "  (opsbot's share of the MTTR)")
    print(f"  verified fixes {fixed}/{len(runs)} = {rate:.0%}  target > 90%: "
          f"{'meets' if rate > TARGETS['fix_rate'] else 'MISSES'}")


def _stop_on_term(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="shipped scenario names (default: every fixable one)")
    ap.add_argument("--window", default="6m", help="verify.window for the bench (the shipped policy's is 10m; "
                    "the shipped alert rules clear within 5m of a fix)")
    ap.add_argument("--every", default="5s", help="verify.every for the bench (the shipped policy's is 30s)")
    ap.add_argument("--card-timeout", type=float, default=120)
    ap.add_argument("--json", type=Path, default=None, help="also write each scenario's times here")
    args = ap.parse_args()

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    signal.signal(signal.SIGTERM, _stop_on_term)  # a killed bench still runs the `finally` that stops the sandbox
    names = args.scenarios or scenario.shipped()
    chosen = [sc for sc in (scenario.load(n) for n in names) if fixable(sc)]
    window_s = scenario.offset(args.window).total_seconds()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="opsbot-mttr-") as tmp:
        work = Path(tmp)
        sb = Sandbox(work / "sandbox")
        try:
            sb.up()
            for sc in chosen:
                settings = settings_for(sb, work / "knowledge")
                settings = settings.model_copy(update={"policy_file": short_policy(work, args.window, args.every)})
                r = run_one(sb, sc, settings, args.card_timeout, window_s + 60)
                print(f"{sc.name}: {'FIXED' if r.fixed else 'NOT FIXED'} {r.verdict or r.error}", flush=True)
                runs.append(r)
        except KeyboardInterrupt:
            print("stopped: the sandbox is being stopped", file=sys.stderr)
        finally:
            sb.down()
    report(runs)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()
