"""opsbot's own metrics (served at /metrics): one registry per process, passed to the app and the workers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.alerts_received = Counter(
            "opsbot_alerts_received", "Alerts received by source and outcome "
            "(accepted, duplicate, ignored, rejected, unavailable)", ["source", "outcome"], registry=r)
        self.truncated_alerts = Counter(
            "opsbot_alertmanager_truncated_alerts", "Alerts Alertmanager left out of its group payloads "
            "(truncatedAlerts: the receiver's max_alerts was reached)", registry=r)
        self.last_alert = Gauge("opsbot_last_alert_received_timestamp_seconds",
                                "When the last alert was accepted, by source", ["source"], registry=r)
        self.heartbeat = Gauge("opsbot_heartbeat_timestamp_seconds", "When a heartbeat alert (Watchdog …) last "
                               "arrived, by name: alert on it going stale", ["alertname"], registry=r)
        self.webhook_latency = Histogram(
            "opsbot_webhook_latency_seconds", "Time to answer a webhook delivery", ["source"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.triage_duration = Histogram(
            "opsbot_triage_duration_seconds", "Time from a stream entry's read to its card", ["kind"], registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
        self.cards_posted = Counter("opsbot_cards_posted", "Cards posted or edited, by platform",
                                    ["platform", "op"], registry=r)
        self.actions = Counter("opsbot_actions", "Actions proposed by triage, by tool and outcome",
                               ["tool", "outcome"], registry=r)
        self.incidents = Counter("opsbot_incident_events", "What an alert did to its incident "
                                 "(new, repeat, resolved, reopened, stale, flapping)", ["kind"], registry=r)
        self.sentry_comments = Counter("opsbot_sentry_comments", "Sentry comments written, by op and outcome",
                                       ["op", "outcome"], registry=r)
        # an incident's outcome figures (bot/intake/figures.py), by severity: detect when its card is first posted,
        # fix when an action's verdict says fixed, the rest once when the incident resolves
        def took(name: str, what: str) -> Histogram:
            return Histogram(f"opsbot_incident_time_to_{name}_seconds", what, ["severity"], registry=r,
                             buckets=OUTCOME_BUCKETS)

        self.time_to_detect = took("detect", "From the alert's start (startsAt) to its card posted")
        self.time_to_acknowledge = took("acknowledge", "From the card posted to the first thing a person did about "
                                        "it (acknowledge, silence, approve, deny, any audited action)")
        self.time_to_approve = took("approve", "From an action proposed to the approval that let it run")
        self.time_to_fix = took("fix", "From an action executed to its verdict 'fixed' (bot/guard/verify.py)")
        self.time_to_resolve = took("resolve", "From the alert's start to its resolution")
        self.actions_executed = Counter("opsbot_incident_actions_executed", "Actions executed for incidents, counted "
                                        "when the incident resolves: run automatically by policy or approved by "
                                        "people", ["how"], registry=r)
        self.verdicts = Counter("opsbot_action_verdicts", "Verdicts on executed actions (fixed, not fixed, worse, "
                                "not verified), by how the action came to run", ["verdict", "how"], registry=r)


OUTCOME_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
