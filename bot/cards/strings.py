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
NO_ANALYSIS = "Model"  # the heading of a card's line saying why there is no analysis
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
FEEDBACK = "Feedback"
FEEDBACK_FACT = "{words} by {by} at {at:%H:%M} UTC"
FEEDBACK_BUTTONS = {"right_cause": "Right cause", "wrong_cause": "Wrong cause", "false_alarm": "False alarm",
                    "not_actionable": "Not actionable"}
FEEDBACK_POST = "{who} marked {id}: {words}{note}. Outcome learning takes it into account."
FEEDBACK_NOTE = " — note: “{note}”"
DENY = "Deny"
NO_EVIDENCE = "no evidence could be collected"
NO_ANALYSIS_MODEL = "no model configured: the evidence is below, every line and the playbook in the thread"
ANALYSIS_TIMEOUT = "the model's analysis timed out after {seconds:.0f}s: the evidence is below and in the thread"
GROUP_TRUNCATED = ("Alertmanager left {count} more alerts of this group out of its notification (the receiver's "
                   "max_alerts): see them in Alertmanager")
ANALYSIS_LATE = ("the model's analysis is taking longer than {seconds:g}s: this card is edited when it arrives; "
                 "the evidence is below")
ANALYSIS_FAILED = "the model's analysis failed: the evidence is below and in the thread"
GRAPH = "graph of the alert's expression over the last hour"
GRAPH_NO_DATA = GRAPH + ": no data on Prometheus at {url}"
GRAPH_UNREACHABLE = GRAPH + ": could not reach Prometheus at {url}"
GRAPH_REFUSED = GRAPH + ": Prometheus at {url} refused the query"
GRAPH_FAILED = GRAPH + ": it could not be drawn"
GRAPH_NO_CLUSTER = GRAPH + ": {why}"
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
SENTRY_OPEN = ("not verified: {state} {after} after the {verb}, but Sentry closes an issue only when someone "
               "resolves it: resolve it there if its errors stopped")
VERDICT_POST = "#{id} {summary}: {verdict}"
UNDO_PROPOSED = "undo proposed: #{id} {summary} (waiting for approval)"
UNDO_NOT_PROPOSED = "undo not proposed: {why}"
UNDO_WHY = "undoes #{id}, which did not fix it"

# what a policy rule with a track record made of an action (policies/earned.py), on its card line
AUTOMATIC = {"ran": "run automatically by policy",
             "shadow": "policy would have run this automatically",
             "paused": "automatic actions are paused: policy asks a person again"}


def minutes(seconds: float) -> str:
    """How long after an action: '2 min', 'under a minute'."""
    return f"{round(seconds / 60)} min" if seconds >= 60 else "under a minute"

# The card's headline (its first line after the title): what is wrong, where, since when
BEGAN = "began with {release}, {ago} before the alert"
REVISION = "revision {number} ({image})"
SINCE = "firing since {at:%H:%M} UTC"
WHAT_IS_WRONG = {  # the failure mode in words a person writes; the mode's name is detail, in the thread
    "crashloopbackoff": "crash-loops", "oomkilled": "is OOM-killed", "imagepullbackoff": "cannot pull its image",
    "container-config-error": "cannot create its container", "init-container-failure": "is stuck in an init container",
    "probe-failure": "is failing its probes", "unschedulable-pods": "has pods that cannot be scheduled",
    "failed-rollout": "is stuck rolling out", "pvc-pending": "has a volume claim stuck pending",
    "volume-filling-up": "has a volume filling up", "hpa-maxed-out": "is at its autoscaler's maximum",
    "job-failed": "failed", "node-not-ready": "is not ready", "node-pressure": "is under pressure",
    "certificate-expired": "fails on an expired certificate", "networkpolicy-blocked": "is cut off by a NetworkPolicy",
    "dependency-down": "is failing because a dependency is down", "cpu-throttling": "is CPU-throttled",
    "latency-regression": "is slow", "http-5xx-spike": "returns errors",
    "cronjob-stale": "has not run on schedule", "cronjob-suspended": "is suspended, so its jobs do not run",
    "limitrange-rejected": "has pods a LimitRange rejects", "node-pod-capacity": "is full: at its pod limit",
    "volume-node-affinity-conflict": "has a volume its pods cannot reach from their zone",
    "quota-exceeded": "is stopped by a ResourceQuota",
    "cluster-dns-failure": "is failing: the cluster DNS does not answer",
    "cni-ip-exhaustion": "cannot start pods: the network plugin has no free addresses",
    "config-change-rejected": "has its credentials rejected after a Secret changed",
    "connections-exhausted-after-scale": "ran the database out of connections after a scale-up",
    "dependency-unreachable": "cannot reach a dependency outside the cluster",
    "hpa-missing-request": "has an autoscaler that cannot compute replicas (a container without a CPU request)",
    "imagepull-secret-missing": "cannot pull its image: its ServiceAccount has no pull secret",
    "service-port-mismatch": "is refused: a Service's targetPort is not its pods' port",
    "service-selector-mismatch": "is refused: a Service's selector matches no pod",
    "stale-config": "runs with config older than the Secret or ConfigMap it reads",
    "workload-identity-missing": "has no cloud credentials: its ServiceAccount lacks the workload-identity annotation",
    "serviceaccount-missing": "cannot create pods: their ServiceAccount does not exist",
    "admission-webhook-refused": "cannot create pods: a validating admission webhook refuses them",
}
WHAT_IS_WRONG_BEHIND = {  # the same, said of the object that holds the cause when it is not the alerted one
    "dependency-down": "is down, so {caller} fails calling it",
    "cluster-dns-failure": "is down, so the cluster DNS does not answer {caller}",
    "service-selector-mismatch": "matches no pod, so {caller}'s calls to it are refused",
    "service-port-mismatch": "sends {caller}'s calls to a port its pods do not listen on",
    "networkpolicy-blocked": "cuts {caller} off",
    "quota-exceeded": "has no room left, so {caller} cannot create its pods",
    "limitrange-rejected": "rejects {caller}'s pods",
    "imagepull-secret-missing": "leaves {caller} unable to pull its image",  # the quote says what it lacks
    "workload-identity-missing": "lacks the workload-identity annotation, so {caller} has no cloud credentials",
    "config-change-rejected": "changed, and {caller}'s credentials are rejected since",
    "stale-config": "changed after {caller}'s pods started: they may still use the old value",
    "volume-node-affinity-conflict": "is pinned to a zone {caller}'s pods cannot run in",
    "pvc-pending": "is stuck pending, so {caller}'s pods cannot start",
    "cni-ip-exhaustion": "has no free addresses, so {caller}'s pods cannot start",
    "serviceaccount-missing": "does not exist, so the API server refuses {caller}'s pods",
    "admission-webhook-refused": "has no ready endpoint for its admission webhook, so {caller}'s pods are refused",
}
WRONG = "is failing ({mode})"  # a mode WHAT_IS_WRONG does not know yet
NO_CAUSE = "{where}: triage found no cause"
NO_CAUSE_TELLING = "{where}: triage found no cause; the most telling line: {line}"
SOMETHING = "the alerted object"
IN_CLUSTER = "in cluster {cluster}"  # after the affected object, when the settings name several clusters

# The card's thread (bot.cards.thread) and what the card says of it
EVIDENCE_ALL = "Evidence, every line of every read"
EVIDENCE_SHOWN = "Evidence ({shown} of {total} lines; all of them in the thread)"
EVIDENCE_IN_THREAD = "Evidence: {total} line{s} in the thread (`opsbot incident show {id}`)"
COULD_NOT_RUN_LINE = "Could not run: {n} read{s}, so this card may miss a cause: {first}{more}"
THREAD_POSTED = "[thread under {message}: {lines} lines; `opsbot incident show {id}` prints it]"
THREAD_MORE = "… {n} more line{s}: `opsbot incident show {id}`"
SEEN_BEFORE = "Seen before"
SEEN_LIKE = "{n} earlier incident{s} like this (closest {closest})"
SEEN_FIXED = "{fix} fixed {k} of {n}"
SEEN_NO_FIX = "none was fixed by an action of opsbot's"
SEEN_LAST = "last {ago} ago"
# the track record of the card's kind of incident (knowledge/outcomes.py), beside triage's own proposals
TRACK_RECORD = "Past incidents: {action} fixed {k} of {n} “{kind}” incidents"
TRACK_RECORD_UNAVAILABLE = "Past incidents: track record unavailable (the outcomes could not be read)"
STORY = "What happened"
RESOLVED_AFTER = "Resolved after {duration}"
ACKED_BY = "acknowledged by {who} at {at:%H:%M} UTC"
NOT_ACKED = "nobody acknowledged it"
ACTED = "#{id} {summary}: {status} by opsbot{at}{approved}"
APPROVED_BY = ", approved by {who}"
CLEARED_AFTER = "the alert cleared {ago} after it"
CLEARED_BEFORE = "the alert had cleared before it"
NO_ACTION = "no action was executed: the alert cleared on its own"
TIMELINE = "Timeline: `opsbot incident show {id}`"
NO_EVIDENCE_LINE = f"{EVIDENCE}: {NO_EVIDENCE}"
PROPOSED_IN_FULL = "Proposed actions, as proposed (their state is on the card)"
IN_THREAD = "… (all of it in the thread)"
EVIDENCE_ELSEWHERE = "Evidence ({shown} of {total} lines; all of them: `opsbot incident show {id}`)"
ALERT_ALONE = "says the alert (no object read shows a fault); the most telling line"
# A scale the policy allows only in steps (bot/triage/steps.py): appended to the action's why
SCALE_STEP = ("; step 1 of {steps}: {current} → {first} now (policy max_step {step}), then scale again, {step} at a "
              "time once the cooldown allows, to reach {wanted}")
