"""The outcome report over a period (`opsbot report --since 7d`, and posted on a schedule): alerts received →
incidents → cards and what was suppressed (repeats, heartbeats, silences), the noisiest rules, mean times by
severity, how often an executed action was verified to fix it, the false-alarm rate from people's feedback, and
the actions run automatically against those approved. Read from the alert stream, the incidents and their figures
(bot/intake/figures.py; people's marks from the audit log, their one record); plain text for a terminal or a chat
message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import redis
import structlog
from pydantic import BaseModel

from bot import messages as M
from bot.cards.poster import Poster
from bot.cards.story import span
from bot.cards.telegram import size
from bot.cards.thread import split
from bot.intake.figures import FigureBook, Figures
from bot.intake.stream import AlertStream
from bot.settings import ReportSettings

log = structlog.get_logger(__name__)
TOP_RULES = 5
SEVERITIES = ("P0", "P1", "P2", "P3", "INFO")


class Report(BaseModel):
    since: datetime
    until: datetime
    received: int = 0
    heartbeats: int = 0
    repeats: int = 0
    silences: int = 0
    rules: list[tuple[str, int]] = []
    incidents: list[Figures] = []


class Reports:
    def __init__(self, stream: AlertStream, book: FigureBook, heartbeats: Sequence[str]):
        self.stream, self.book, self.heartbeats = stream, book, set(heartbeats)

    def build(self, since: datetime, until: datetime) -> Report:
        out = Report(since=since, until=until)
        rules: Counter[str] = Counter()
        for entry in self.stream.received(since, until):
            out.received += 1
            if entry.alert is None:
                continue
            if entry.alert.name in self.heartbeats:
                out.heartbeats += 1
            else:
                rules[entry.alert.name] += 1
        out.rules = rules.most_common(TOP_RULES)
        out.incidents = self.book.opened(since, until)
        for f in out.incidents:
            incident = self.book.incidents.get(f.incident)
            if incident is not None:  # every alert counted on it that neither opened, resolved nor reopened it
                out.repeats += max(0, incident.count - len(self.book.incidents.timeline(f.incident)))
        out.silences = sum(1 for r in self.book.audit.query(since=since, until=until, action="am_silence",
                                                            limit=1_000_000)
                           if r.kind == "silence" and r.status == "success")
        return out


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _mean(values: list[timedelta]) -> str:
    return span(sum(values, timedelta()) / len(values)) if values else "-"


def _row(severity: str, figures: list[Figures]) -> str:
    approvals = [a.approve for f in figures for a in f.actions if a.approve is not None and a.executed]
    return M.REPORT_TABLE.format(
        severity=severity, incidents=len(figures), detect=_mean([f.detect for f in figures if f.detect is not None]),
        ack=_mean([f.acknowledge for f in figures if f.acknowledge is not None]), approve=_mean(approvals),
        fix=_mean([f.fix for f in figures if f.fix is not None]),
        resolve=_mean([f.resolve for f in figures if f.resolve is not None]))


def text(r: Report) -> str:
    figures = r.incidents
    cards = sum(1 for f in figures if f.carded)
    lines = [M.REPORT_TITLE.format(since=r.since, until=r.until, span=span(r.until - r.since)),
             M.REPORT_FUNNEL.format(received=r.received, incidents=len(figures), cards=cards),
             M.REPORT_SUPPRESSED.format(repeats=r.repeats, rs=_s(r.repeats), heartbeats=r.heartbeats,
                                        hs=_s(r.heartbeats), silences=r.silences, ss=_s(r.silences)),
             M.REPORT_RULES.format(rules=", ".join(f"{name} {n}" for name, n in r.rules)) if r.rules
             else M.REPORT_NO_ALERTS, "", M.REPORT_TABLE.format(**M.REPORT_HEAD)]
    for severity in sorted({f.severity for f in figures}, key=lambda s: (SEVERITIES + (s,)).index(s)):
        lines.append(_row(severity, [f for f in figures if f.severity == severity]))
    lines += [M.REPORT_MEANS, ""]
    actions = [a for f in figures for a in f.actions if a.executed]
    judged = [a for a in actions if a.fixed is not None]
    unverified = sum(1 for a in actions if a.verdict and a.fixed is None)
    if judged:
        fixed = sum(1 for a in judged if a.fixed)
        lines.append(M.REPORT_FIXES.format(fixed=fixed, judged=len(judged), s=_s(len(judged)),
                                           pct=f" ({fixed / len(judged):.0%})",
                                           unverified=M.REPORT_UNVERIFIED.format(n=unverified) if unverified else ""))
    else:
        lines.append(M.REPORT_NO_FIXES)
    marked = [f for f in figures if f.feedback]
    if marked:
        false = sum(1 for f in marked if f.feedback == "false alarm")
        lines.append(M.REPORT_FALSE.format(n=false, marked=len(marked), s=_s(len(marked)),
                                           pct=f"{false / len(marked):.0%}"))
    else:
        lines.append(M.REPORT_NO_FEEDBACK)
    hows = Counter(a.how for a in actions)
    lines.append(M.REPORT_ACTIONS.format(n=len(actions), auto=hows["automatic"], approved=hows["approved"]))
    return "\n".join(lines)


# KEYS: the last period reported. ARGV: the period now. 1: this process posts the report of the period just ended.
_CLAIM = """
local last = redis.call('GET', KEYS[1])
if not last then redis.call('SET', KEYS[1], ARGV[1]) return 0 end
if tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


class ReportSchedule:
    """Posts the report of the period just ended at each multiple of `report.every`, once across processes; run on
    the served process's ticks (the triage workers' steps). The first tick only notes the period."""

    def __init__(self, reports: Reports, settings: ReportSettings, posters: Sequence[Poster], client: redis.Redis,
                 prefix: str, now: Callable[[], datetime]):
        self.reports, self.settings, self.posters, self.now = reports, settings, posters, now
        self.key = f"{prefix}report:period"
        self._claim = client.register_script(_CLAIM)

    def tick(self) -> bool:
        every = self.settings.every
        if not every:
            return False
        now = self.now()
        if self._claim(keys=[self.key], args=[int(now.timestamp() // every.total_seconds())]) != 1:
            return False
        body = text(self.reports.build(now - every, now))
        where = {"slack": self.settings.slack_channel,
                 "telegram": str(self.settings.telegram_chat_id) if self.settings.telegram_chat_id else None}
        for poster in self.posters:
            try:
                for part in split(body.split("\n"), 3_500, size, lambda n: ""):
                    poster.say(part, where.get(poster.platform))
            except Exception as e:  # one platform failing does not keep the report from the others
                log.warning("report_not_posted", platform=poster.platform, error=f"{type(e).__name__}: {e}"[:300])
        log.info("report_posted", since=f"{now - every:%Y-%m-%d %H:%M}")
        return True
