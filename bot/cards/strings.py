"""Every user-facing string of cards, in one place (tests import them)."""

SEVERITY_EMOJI = {"P0": "🔴", "P1": "🟠", "P2": "🟡", "P3": "🔵", "INFO": "⚪"}
SEVERITY_COLOUR = {"P0": "#d0021b", "P1": "#f5a623", "P2": "#f8e71c", "P3": "#4a90e2", "INFO": "#9b9b9b"}
RESOLVED_EMOJI = "✅"
RESOLVED_COLOUR = "#2eb67d"

STATUS = {"firing": "FIRING", "resolved": "RESOLVED"}
FAILING = "The alert says (quoted as sent, not checked by opsbot)"
REQUESTED = "Requested"
EVIDENCE = "Evidence"
COULD_NOT_RUN = "Could not run"
SIMILAR = "Similar incidents"
PLAYBOOK = "Playbook"
ANALYSIS = "The model's analysis (its words; the evidence is what the tools returned)"
ROOT_CAUSE = "Root cause"
CONFIDENCE = "Confidence"
IMPACT = "Impact"
FIX = "Fix suggestion"
PREVENTION = "Prevention"
ACTIONS = "Proposed actions"
DIAGNOSIS = "Diagnosis (from the objects' state)"
DIAGNOSIS_FROM = {"state": DIAGNOSIS,
                  "logs": "Diagnosis (from the log line quoted below, not from the objects' state)",
                  "alert": "Diagnosis"}  # its line says itself that it rests on the alert alone (FROM_ALERT_ALONE)
LOG_SAYS = "The log says (quoted as written, not checked by opsbot)"
FROM_ALERT_ALONE = ("from the alert alone: its name or expression speaks of {what}, and no object read shows a "
                    "fault")
CAUSE_NOT_FOUND = ("cause not found: the alert speaks of {what}, and none of the {reads} reads made shows a fault "
                   "that explains it; every read is below")
CAUSE_NOT_FOUND_QUOTED = "; the most telling lines of the alerted workload and its followed neighbours are quoted"
CAUSE_NOT_FOUND_ADVICE = ("opsbot proposes nothing: start from the quoted lines and the reads below, then look at what "
                          "changed before the alert (a release, a scale, a ConfigMap or Secret, a dependency)")
NAMED = {"alertmanager": "alert", "sentry": "Sentry issue"}  # what the quoted name in a card's header is
TO_DO = "What a person should do"
LINKS = "Links"
APPROVE = "Approve"
ACK = "Acknowledge"
ACKNOWLEDGED = "Acknowledged"
SILENCED = "Silenced"
SILENCE = "Silence"
SILENCE_FOR = "Silence {d}"
SILENCE_UNTIL_RESOLVED = "Silence until resolved"
UNSILENCE = "Unsilence"
DENY = "Deny"
NO_EVIDENCE = "no evidence could be collected"
NO_ANALYSIS_MODEL = "no model configured: the evidence and the playbook are below"
ANALYSIS_TIMEOUT = "the model's analysis timed out after {seconds:.0f}s: the evidence is below"
GROUP_TRUNCATED = ("Alertmanager left {count} more alerts of this group out of its notification (the receiver's "
                   "max_alerts): see them in Alertmanager")
ANALYSIS_LATE = ("the model's analysis is taking longer than {seconds:g}s: this card is edited when it arrives; "
                 "the evidence is below")
ANALYSIS_FAILED = "the model's analysis failed: the evidence is below"
GRAPH = "graph of the alert's expression over the last hour"
GRAPH_NO_DATA = GRAPH + ": no data on Prometheus at {url}"
GRAPH_UNREACHABLE = GRAPH + ": could not reach Prometheus at {url}"
GRAPH_REFUSED = GRAPH + ": Prometheus at {url} refused the query"
GRAPH_FAILED = GRAPH + ": it could not be drawn"
FLAPPING = "flapping: {flips} firing↔resolved changes within {window}; opsbot will keep this card updated"
SENTRY_COMMENT_TITLE = "opsbot analysis"
SENTRY_NOT_ANALYSED = "not analysed (no model configured)"


GROUP_SHOWN = 10  # a group's alert lines on a card; the rest are counted


def group_heading(firing: int, resolved: int) -> str:
    return f"Alerts in this group: {firing} firing, {resolved} resolved"


def more_lines(n: int, incident_id: str) -> str:
    """What a cut card says of the lines it leaves out, and where the whole incident is."""
    return (f"… {n} more line{'s' if n != 1 else ''} not shown: `incident {incident_id}` in chat or "
            f"`opsbot incident show {incident_id}`")


def truncated(link: str | None) -> str:
    return "… cut to fit the platform's limit" + (f": full text at {link}" if link else "")


def window_text(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 120 else f"{seconds} s"

WITHDRAWN = "the incident resolved before anyone approved it"
EXPIRED = "expired at {at:%H:%M} UTC, not executed"
EXPIRES = "expires {at:%H:%M} UTC"
REMINDER = "{who} #{id} {summary} is waiting for approval and expires at {at:%H:%M} UTC"
ESCALATION = "{who} #{id} {summary} expired at {at:%H:%M} UTC with nobody's decision: nothing was run"

# verification after an executed action (bot/guard/verify.py): "{after}" is "2 min", "{verb}" "rollback"
FIXED = "fixed: {state} {after} after the {verb}"
ALERT_RESOLVED = ", alert resolved at {at:%H:%M} UTC"
NOT_FIXED = "not fixed: {still}{state} {after} after the {verb}"
STILL = "still "
NOT_FIXED_ALERT = "not fixed: {state} but the alert still fires {after} after the {verb}"
WORSE = "worse: {state} {after} after the {verb} (before it: {before})"
NOT_VERIFIED = "not verified: {why} {after} after the {verb}"
VERDICT_POST = "#{id} {summary}: {verdict}"
UNDO_PROPOSED = "undo proposed: #{id} {summary} (waiting for approval)"
UNDO_NOT_PROPOSED = "undo not proposed: {why}"
UNDO_WHY = "undoes #{id}, which did not fix it"


def minutes(seconds: float) -> str:
    """How long after an action: '2 min', 'under a minute'."""
    return f"{round(seconds / 60)} min" if seconds >= 60 else "under a minute"
