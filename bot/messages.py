"""What opsbot says to people and to the model in its own words: one module, so tests can import the strings."""

from __future__ import annotations

COMMANDS = (
    "troubleshoot SERVICE (runs the matching playbook's checks), pods [NAMESPACE], events [NAMESPACE], "
    "logs SERVICE [SINCE], scale DEPLOYMENT to N, restart DEPLOYMENT, rollback DEPLOYMENT, approve ID, deny ID, "
    "audit, help"
)

NO_MODEL = (
    "No language model is configured, so I cannot answer free-form questions. "
    f"These commands still work: {COMMANDS}."
)

QUESTION_WITHOUT_REDIS = (
    "I cannot take questions right now: opsbot's Redis is unreachable, and a question needs it (the conversation's "
    f"memory and the question limits live there). These commands still read the cluster: {COMMANDS}."
)

MODEL_FAILED = (
    "The language model is not available right now ({why}), so I cannot answer that. "
    f"These commands still work: {COMMANDS}."
)

MODEL_FELL_BACK = (
    "The language model could not answer ({why}); here is what opsbot's own checks found.\n\n{evidence}"
)

# past incidents a question is briefed with (bot/chat/briefing.py): the model's heading, then a person's
PAST_FOR_MODEL = "past incidents like this (opsbot's knowledge: what was found, what was done, its verdict):"
PAST_FOR_PERSON = "Past incidents like this (opsbot's knowledge):"
PAST_NOT_SEARCHED = "- could not search them: {why}"

# -- to the model -------------------------------------------------------------------------------------

PENDING_APPROVAL = (
    "pending approval #{action_id}: {summary}; nothing has changed; an authorised person must approve it in chat"
)

FORCE_ANSWER = (
    "opsbot: the tool-call limit for this question is reached; no more tools can run. Answer now from the tool "
    "results above, and say what is still unknown and which check would settle it."
)

NOT_OFFERED_WHY = "not offered for this question; call only the tools offered with it"

# -- the model's answer, checked (these lead the reply; the model's words follow under MODEL_WORDS) ----------

NOT_OFFERED = ("opsbot refused the model's call of {tools}: not offered for this question, so it never ran, nothing "
               "was proposed and nothing changed.")
MODEL_WORDS = "The model's answer (its own words; opsbot's check above says what happened):"

CLAIM_PENDING = ("opsbot's check of this answer: nothing was changed. Waiting for approval: {actions}. "
                 "Only an authorised person's click on the action's card executes it.")
CLAIM_NOTHING = ("opsbot's check of this answer: no change was made to the cluster while answering; "
                 "no action was executed.")

STEP_LIMIT_NOTE = "(I stopped after {steps} rounds of tool calls; ask a narrower question to go further.)"

EMPTY_ANSWER = "I have no answer from the model for that; try rephrasing, or use a command: " + COMMANDS

# -- who put a pending action forward, as its card says it ---------------------------------------------

PROPOSED_AS_ASKED = "proposed by opsbot (asked by {requester})"
PROPOSED_BY_MODEL = ("proposed by the model on its own: the question from {requester} did not ask for this "
                     "change")
MODEL_OWN = "proposed by the model on its own; the question did not ask for this change"
PROPOSED_BY_TRIAGE = "proposed by opsbot triage"
PROPOSED_AS_UNDO = "proposed by opsbot: the action before it did not fix it, and this puts the target back"
REQUESTED_BY = "requested by {requester}"

# -- chat commands --------------------------------------------------------------------------------------

HELP = """I am opsbot. Ask me a question in plain words, or use a command:
• troubleshoot SERVICE: run the matching playbook's checks and show the evidence
• pods [NAMESPACE] · events [NAMESPACE] · logs SERVICE [SINCE, e.g. 2h, since 10:00]
• changes [NAMESPACE] [SINCE]: what changed (releases, scales, Jobs, ConfigMaps and Secrets, nodes), default 6h
• scale DEPLOYMENT to N · restart DEPLOYMENT · rollback DEPLOYMENT (NAMESPACE/DEPLOYMENT also works)
• approve ID · deny ID: decide a pending action (the buttons do the same)
• ack INCIDENT · silence INCIDENT [1h|4h|resolved] · unsilence INCIDENT: Alertmanager silences, as on the card
• incident [ID]: the newest incidents, or one incident's timeline
• feedback INCIDENT right-cause|wrong-cause|false-alarm|not-actionable [NOTE]: your word on it, as on the card
• status · incidents · audit [SINCE] · policy whatcan [IDENTITY]
Changes to the cluster always go through the policy: most need an authorised person's approval."""

USAGE = {
    "troubleshoot": "usage: troubleshoot SERVICE (or NAMESPACE/SERVICE) [--cluster NAME], e.g. troubleshoot checkout",
    "logs": "usage: logs SERVICE [SINCE], e.g. logs checkout 2h, logs checkout since 10:00",
    "changes": "usage: changes [NAMESPACE] [SINCE], e.g. changes shop 2h, changes shop since 10:00 (default 6h)",
    "scale": "usage: scale DEPLOYMENT to N, e.g. scale checkout to 6 (or scale shop/checkout 6)",
    "restart": "usage: restart DEPLOYMENT, e.g. restart payments-api",
    "rollback": "usage: rollback DEPLOYMENT, e.g. rollback checkout",
    "policy": "usage: policy whatcan [IDENTITY]",
    "approve": "usage: approve ID, e.g. approve 1a2b3c4d",
    "deny": "usage: deny ID, e.g. deny 1a2b3c4d",
    "ack": "usage: ack INCIDENT, e.g. ack inc-42",
    "silence": "usage: silence INCIDENT [DURATION|resolved], e.g. silence inc-42 2h (default 1h)",
    "unsilence": "usage: unsilence INCIDENT, e.g. unsilence inc-42",
    "feedback": ("usage: feedback INCIDENT right-cause|wrong-cause|false-alarm|not-actionable [NOTE], "
                 "e.g. feedback inc-42 false-alarm load test"),
}

# -- feedback on an incident (bot/guard/feedback.py) ------------------------------------------------------

FEEDBACK_MARKS = "{got!r} is not a mark; marks: right-cause, wrong-cause, false-alarm, not-actionable"
FEEDBACK_TAKEN = "{id} marked {words} by {who}."
FEEDBACK_SAME = "{id} is already marked {words} by you; nothing changed."
FEEDBACK_NO_CARD = "I know no alert card of incident {id!r}; `incident` lists the recorded ones. Nothing was marked."
FEEDBACK_NOT_MEMBER = ("{identity} is not among the policy's members, so opsbot does not take feedback from them; "
                       "nothing was marked. An admin adds people under `members` in the policy (any role, a viewer "
                       "too, may mark incidents).")
FEEDBACK_NOT_LEARNED = "Outcome learning could not record it (Redis did not answer); the card shows it."
FEEDBACK_NOT_STORED = ("The knowledge store could not record it now; the incident is written with it when it "
                       "resolves, if it has not resolved yet.")
NO_FEEDBACK = "marking incidents needs the card store `opsbot serve` writes, which this chat is not given"

QUESTION_LIMIT = ("{who} asked {limit} questions of the model in the last hour, the limit ({setting}); the next one "
                  "is possible at {free}. Commands such as `pods`, `logs` and `incident` still work.")

# -- configuration -------------------------------------------------------------------------------------

AM_INTAKE_REFUSES = ("no webhooks.alertmanager_token and webhooks.alertmanager_open is false: the Alertmanager "
                     "intake refuses every delivery (HTTP 403 not_configured), and Alertmanager drops a 4xx for good; "
                     "set the token (and send it from Alertmanager's http_config)")

AM_BODY_LIMIT = ("webhooks.max_body_bytes is {limit} bytes, below the smallest Alertmanager delivery ({smallest} "
                 "bytes): the intake refuses every delivery (HTTP 413)")

AM_NO_TOKEN_SENT = ("the Alertmanager at {url} posts to {to} without a bearer token, and webhooks.alertmanager_token "
                    "is set: each of its deliveries is refused (HTTP 401); give that webhook_config "
                    "http_config: {{authorization: {{credentials: <the token>}}}}")

AM_NO_RECEIVER = ("the Alertmanager at {url} has no webhook receiver posting to {path}: opsbot receives none of its "
                  "alerts (docs/setup/alertmanager.md)")

LEDGER_UNREAD = ("  (Redis at {url} did not answer; the gate reads the recent executions before anything runs, "
                 "and may refuse for a cooldown or an hourly budget)")

# opsbot policy pause|resume: the kill switch of automatic actions (bot/guard/pause.py)
PAUSED = ("automatic actions paused {by}: every action a policy rule would run without a person's approval (by "
          "its track record or a plain `decide: allow`) asks a person until `opsbot policy resume`")
ALREADY_PAUSED = "automatic actions were already paused ({by}); the pause is now yours"
RESUMED = ("automatic actions resumed (they were paused {by}): rules that allow run their actions again (with a "
           "track record: what they have earned, in mode enforce)")
NOT_PAUSED = "automatic actions were not paused; nothing changed"
STILL_PAUSED_BY_SETTING = "the setting autonomy_paused is true: automatic actions stay paused until it is unset"
MAY_NOT_RESUME = ("{who} ({roles}) may not resume automatic actions: it takes a role that may approve actions; "
                  "see docs/policy.md")
PAUSE_UNREACHABLE = "could not reach Redis at {url} to {verb} automatic actions: {error}; nothing changed"
AUTOMATIC_PAUSED = "  automatic actions: paused ({why})"
AUTOMATIC_ON = "  automatic actions: not paused"

NO_SILENCER = "acknowledging and silencing need the card store `opsbot serve` writes, which this chat is not given"

UNKNOWN_COMMAND = "I do not know the command '{got}'. " + HELP

NOT_FOUND = "I found no deployment '{name}' in the namespaces I look in ({namespaces}); name it as NAMESPACE/{name}."
NOT_THIS_CARD = ("that button does not belong to the card it was pressed on; nothing was done. Use the buttons "
                 "on the action's own card.")

# opsbot mcp (docs/mcp.md)
MCP_PENDING = ("Nothing has changed: action #{action_id} waits for someone the policy allows to approve it in chat "
               "({where}). Nothing over MCP can approve or deny it.")
MCP_CARD_POSTED = "its card with Approve / Deny was posted to {platforms}"
MCP_NO_CHAT = ("no chat is configured to post its card: an approver decides it with `approve {action_id}` in chat, or "
               "`opsbot action approve {action_id}`")
MCP_CARD_FAILED = "its card could not be posted ({error}); an approver decides it with `approve {action_id}` in chat"
MCP_NO_TOKENS = ("mcp.tokens is empty: every HTTP request would be refused. Give each person a token (docs/mcp.md), "
                 "or use stdio")
MCP_NO_INCIDENT = "no incident {incident_id!r}: incident_list shows the recorded ones"
MCP_NO_PENDING = "no pending actions"
MCP_REDIS_DOWN = "could not read {what}: Redis is unreachable"

# -- outcome figures: the postmortem draft and `opsbot report` (bot/intake/postmortem.py, report.py) ----------

PM_TITLE = "# Postmortem draft: {id} · {severity} · {name}"
PM_NOTE = ("_Drafted by opsbot when the incident resolved, from its card, timeline and audit trail; alert and log "
           "text is quoted as received. Check it, then edit it._")
PM_SUMMARY = "## Summary"
PM_ALERT = "The alert said:"
PM_NO_CAUSE = "opsbot did not find the cause."
PM_RESOLVED = "Resolved {took} after the alert started; {actions}."
PM_NO_ACTIONS = "no action of opsbot's ran"
PM_ACTIONS = "{n} action{s} executed: {list}"
PM_IMPACT = "## Impact window"
PM_WINDOW = "- from {start:%Y-%m-%d %H:%M:%S} UTC (the alert's start) to {end} ({took})"
PM_STILL = "still firing"
PM_ALERTS = "- {count} alert{s} counted for it (repeats folded in); source: {source}"
PM_TARGET = "- affected: {target}"
PM_TIMELINE = "## Timeline"
PM_DURATIONS = "Durations: {line}"
PM_CAUSE = "## Cause and evidence"
PM_DIAGNOSIS = "- diagnosis (opsbot's): {text}"
PM_DECISIVE = "- the line it rests on (quoted):"
PM_EVIDENCE = "- evidence (quoted as the checks returned it):"
PM_MORE_EVIDENCE = "  - … {n} more line{s}: `opsbot incident show {id}`"
PM_ANALYSIS = "- the model's analysis (its own words, confidence {confidence:.0%}): {text}"
PM_DONE = "## What was done, by whom"
PM_NOTHING_DONE = "- nothing was recorded in the audit trail for this incident"
PM_FOLLOW_UPS = "## Follow-ups"
PM_FIX_FAILED = "- [ ] #{id} {summary} did not fix it ({verdict}): find what does and write it into the playbook"
PM_NO_FIX = "- [ ] no action of opsbot's fixed it: record what did, so the next card can propose it"
PM_ADVICE = "- [ ] {advice}"
PM_PREVENT = "- [ ] prevent it (the model's suggestion): {text}"
PM_FIND_CAUSE = "- [ ] find the cause: opsbot's checks did not settle it"
PM_CONFIRM = "- [ ] confirm or correct the cause on the card (right cause / wrong cause / false alarm), so it is learned"
PM_MORE = "… the rest of the draft: `opsbot incident postmortem {id}` ({n} more line{s})"

# the timeline's moments, in the order they happen
PM_FIRED = "alert fired"
PM_CARDED = "card posted (detected in {took})"
PM_ACKED = "first response by {who} (acknowledged {took} after the card)"
PM_PROPOSED = "#{id} {summary} proposed"
PM_APPROVED = "#{id} approved by {who} ({took} after it was proposed)"
PM_EXECUTED = "#{id} executed, {how}"
PM_HOW = {"automatic": "automatically (the policy allowed it)", "approved": "as approved"}
PM_VERDICT = "#{id} verdict: {verdict}"
PM_RESOLVED_AT = "alert resolved ({took} after it started)"

REPORT_TITLE = "opsbot report: {since:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M} UTC ({span})"
REPORT_FUNNEL = "alerts received {received} → incidents {incidents} → cards {cards}"
REPORT_SUPPRESSED = "suppressed: {repeats} repeat{rs} (folded into their incidents), {heartbeats} heartbeat{hs}, " \
                    "{silences} silence{ss} made from cards"
REPORT_RULES = "noisiest rules: {rules}"
REPORT_NO_ALERTS = "noisiest rules: no alerts received"
REPORT_TABLE = "{severity:<9}{incidents:>9}  {detect:>8}  {ack:>8}  {approve:>9}  {fix:>8}  {resolve:>8}"
REPORT_HEAD = {"severity": "severity", "incidents": "incidents", "detect": "MTTD", "ack": "MTTA",
               "approve": "approval", "fix": "fix", "resolve": "MTTR"}
REPORT_MEANS = "(means over the incidents opened in the period; '-' where nothing was measured)"
REPORT_FIXES = "fix success (verified): {fixed} of {judged} action{s} fixed it{pct}{unverified}"
REPORT_UNVERIFIED = "; {n} not verified"
REPORT_NO_FIXES = "fix success (verified): no action was judged"
REPORT_FALSE = "false alarms: {n} of {marked} incident{s} with feedback ({pct})"
REPORT_NO_FEEDBACK = "false alarms: no feedback recorded"
REPORT_ACTIONS = "actions executed: {n} ({auto} automatically by policy, {approved} approved by people)"
