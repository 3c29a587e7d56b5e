"""The demo on the sandbox, end to end and without any account or model:

the scenario's alert fires in Prometheus → Alertmanager posts it to opsbot's webhook → a worker triages it
(playbook, evidence, similar incidents) and the card appears in the console with a proposed action → the
on-call lead acknowledges the card, then approves the action → the emulated cluster recovers → the alert
resolves and the card is edited, its postmortem draft posted in its thread → the incident is written to knowledge
→ the audit trail tells the story, and the run's outcome figures are reported as `opsbot report` prints them.
With a model configured, opsbot also answers a free-form question.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from bot import messages as M

from bot.cards.model import Card
from bot.cards.poster import ConsolePoster
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.guard.door import Caller
from bot.intake.report import text as report_text
from bot.polling import poll
from bot.runs.served import served
from bot.settings import Settings
from bot.triage.knowledge_hook import knowledge_id
from sandbox.manager import Sandbox
from sandbox.scenario import Scenario

APPROVER = "cli:demo"  # an on-call lead in the sandbox's demo policy (sandbox/policy.yaml)
T = TypeVar("T")
Echo = Callable[[str], None]


class DemoFailed(Exception):
    """A step of the demo did not happen in time: which one, and what was seen instead."""


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    found = poll(probe, timeout_s, interval_s=0.5)
    if not found:
        raise DemoFailed(f"{what}: not seen within {timeout_s:.0f}s")
    return found


def run_demo(sb: Sandbox, sc: Scenario, settings: Settings, echo: Echo, question: str | None = None) -> list[str]:
    """Run the whole story; returns the audit trail's lines. Raises DemoFailed when a step does not happen."""
    console = ConsolePoster(echo=echo)
    with sb.run_port() as port, served(settings, console, "demo", workers=2, learn=True, port=port) as s:
        p, door = s.pipeline, s.door
        began = door.ctx.now() - timedelta(minutes=1)
        echo(f"== 1. loading scenario {sc.name}: {sc.title}")
        sb.load(sc)
        echo("== 2. waiting for Prometheus to fire the alert and Alertmanager to deliver it …")
        card = wait_for("the alert card", lambda: next((h.card for h in console.history if h.op == "post"), None), 90)
        png = p.cards.graph(card.incident_id)  # drawn beside the evidence, before the card was posted
        if png:  # posted under the card in Slack and Telegram; the console keeps it in a file
            drawn = sb.dir / f"graph-{card.incident_id}.png"
            drawn.write_bytes(png)
            echo(f"   the card's graph (the alert's expression over the last hour): {drawn}, {len(png):,} bytes PNG")
        else:
            echo(f"   no graph: {'; '.join(card.could_not_run) or 'the alert carries no expression'}")
        pending = [a for a in card.actions if a.status == "pending" and a.action_id]
        if not pending:
            raise DemoFailed(f"the card proposes no pending action: {[a.summary for a in card.actions]}")
        action = pending[0]
        chat = Conversation(door, Agent(settings, door), settings.chat.namespaces, silencer=p.silencer)
        echo(f"== 3. {APPROVER} acknowledges the card (`ack {card.incident_id}`, or its Acknowledge button)")
        acked = chat.command(f"ack {card.incident_id}", "demo", APPROVER)
        echo(f"   → {acked.text}")
        if acked.private:
            raise DemoFailed(f"the acknowledgement was refused: {acked.text}")
        shown = p.cards.get(card.incident_id)
        echo(f"   the card now says: Acknowledged by {shown.acknowledged.by if shown and shown.acknowledged else '?'}")
        echo(f"== 4. {APPROVER} (on-call lead) approves #{action.action_id}: {action.summary}")
        click = chat.click(action.action_id, APPROVER, approve=True)
        echo(f"   → {click.reply.text}")
        if click.updated is None or click.updated.actions[0].status != "executed":
            raise DemoFailed(f"the approved action did not execute: {click.reply.text}")
        Decisions(p.cards, p.publisher).apply(click.updated, "console")
        echo("== 5. the cluster after the fix")
        ns = card.labels.get("namespace", sc.cluster.namespaces[0])
        service = card.labels.get("service", "")
        pods = door.run("k8s_list", {"namespace": ns, "deployment": service}, Caller(identity=APPROVER))
        echo(f"   {pods.invocation}: {(pods.data or {}).get('summary', pods.error)}")
        echo("== 6. waiting for the alert to resolve (the exporter sees the recovered deployment) …")
        resolved: Card = wait_for("the resolved card", lambda: next(
            (h.card for h in console.history if h.card.status == "resolved"), None), 180)  # slow machines
        verdict = wait_for("opsbot's verdict on the action", lambda: next(
            (a.verdict for a in (p.cards.get(card.incident_id) or resolved).actions
             if a.action_id == action.action_id and a.verdict), None), 30)
        echo(f"   opsbot's verdict on #{action.action_id}: {verdict}")
        echo("== 7. written to knowledge")
        store = door.ctx.backends.knowledge
        hit = wait_for("the incident in knowledge", lambda: next(
            (h for h in store.similar_incidents(resolved.title, k=3) if h.id == knowledge_id(resolved)), None), 30)
        echo(f"   {hit.title}: {hit.excerpt}")
        if hit.incident and hit.incident.actions:
            echo(f"   what was done, as learned: {'; '.join(hit.incident.actions)}")
        if question:
            echo(f"== 8. a free-form question: {question}")
            echo(chat.ask(question, "demo", APPROVER).text)
        echo("== the audit trail of this run")
        trail = [f"{r.at:%H:%M:%S} {r.identity:<16} {r.kind:<10} {r.status:<17} {r.summary}"[:160]
                 for r in door.audit.query() if r.kind != "tool_call" or r.identity == APPROVER]
        for line in trail:
            echo(line)
        wait_for("the postmortem draft in the card's thread", lambda: any(
            text.startswith(M.PM_TITLE.split("{")[0]) for _, text in console.replies) or None, 30)
        echo("== the outcome figures of this run (as `opsbot report` prints them)")
        assert p.reporter is not None
        for line in report_text(p.reporter.reports.build(began, door.ctx.now())).splitlines():
            echo(f"   {line}")
        return trail
