"""What changed holds the cause: the workload's pods hold a ConfigMap or Secret value older than its last change
(a restart loads the new one), the pods already run the changed value and it is rejected, or another workload
scaled up just before a database ran out of connections (a scale back frees them).

Each rule decides by mechanism, from `k8s_changes` (when the object was modified, who scaled what from → to)
and the pods' own facts (which ConfigMaps and Secrets they read, when their containers started): a restart is
proposed only when pods started before the change, a scale only back to the count before the scale-up.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.triage.results import DEPENDENCY, NETWORK_FAILURE, change_rows
from bot.triage.rules.base import Action, Diagnosis, Reader
from tools.k8s_api import age

# a dependency refusing the credentials the pod presents (PostgreSQL, MySQL, Redis, HTTP, cloud SDKs)
AUTH_FAILURE = re.compile(r"(?i)(password authentication failed for user|Access denied for user|"
                          r"WRONGPASS|NOAUTH Authentication required|authentication failed|"
                          r"\b401\b.{0,40}unauthori[sz]ed|unauthori[sz]ed.{0,40}\b401\b|(status|code|HTTP)[ :=]+401\b|"
                          r"invalid (username or password|credentials|api[ _-]?key|token)|"
                          r"InvalidAccessKeyId|SignatureDoesNotMatch|"
                          r"security token included in the request is invalid)")
# a database out of connection slots (PostgreSQL, MySQL/MariaDB)
EXHAUSTED = re.compile(r"(?i)(sorry, too many clients already|remaining connection slots are reserved|"
                       r"too many connections)")
SCALE_BEFORE = timedelta(minutes=5)  # a scale-up this long after the alert started did not start it


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _started(pod: dict[str, Any]) -> datetime | None:
    """When the pod's main container last started (env is read then), else when the pod was made."""
    main = (pod.get("containers") or [{}])[0]
    running = (main.get("state") or {}).get("since")
    return _when(running) or _when(pod.get("created"))


def _deployment(pod: dict[str, Any]) -> str | None:
    return next((link.split("/", 1)[1].removesuffix(" (gone)") for link in pod.get("controlled_by") or []
                 if link.startswith("Deployment/")), None)


def _alert_start(r: Reader) -> datetime:
    start = r.alert.starts_at or r.now
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def _config_changes(r: Reader) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(pod, the ConfigMap/Secret it reads, that object's change row) for the alert's own pods."""
    rows = {(c["kind"], c["object"]): c for c in change_rows(r.results) if c.get("kind") in ("ConfigMap", "Secret")}
    out = []
    for p in r.pods:
        for ref in p.get("config_refs") or []:
            row = rows.get((ref.get("kind"), f"{p['namespace']}/{ref.get('name')}"))
            if row is not None and _when(row.get("at")) and _when(row["at"]) <= _alert_start(r) + SCALE_BEFORE:
                out.append((p, ref, row))
    return out


def stale_config(r: Reader) -> Diagnosis | None:
    """Pods started before a ConfigMap/Secret they read was modified, and their calls fail as old values would
    (a credential rejected; for configuration, any failing call): restart them. Only pods started after the change
    and a credential still rejected: they run the new value, which is wrong or whose other side did not change."""
    auth = [x for x in r.logs if AUTH_FAILURE.search(x)]
    calls = [x for x in r.logs if DEPENDENCY.search(x) or NETWORK_FAILURE.search(x)]
    found = [(p, ref, row, _started(p), _when(row["at"])) for p, ref, row in _config_changes(r)]
    found = [f for f in found if f[3] and f[4] and (auth if f[1]["kind"] == "Secret" else auth or calls)]
    stale = [f for f in found if f[3] < f[4]]
    if stale:
        return _stale(r, *stale[0], auth or calls)
    rejected = [f for f in found if f[1]["kind"] == "Secret"]
    if not rejected:
        return None
    p, ref, row, started, changed = rejected[0]
    about = f"{ref['kind']} {row['object']}"
    summary = (f"modified {age(changed, r.now)} ago{_by(row)}; pods started after it ({age(started, r.now)} ago) "
               f"and their credentials are still rejected")
    return r.make("config-change-rejected", about, summary, _quotes(p, ref, row, started, auth),
                  f"the new value of {about} does not match what the other side expects: check that the "
                  "rotation finished there (or put the previous value back); a restart would change "
                  "nothing, the pods already read it", rollback_fits=False)


def _stale(r: Reader, p: dict[str, Any], ref: dict[str, Any], row: dict[str, Any], started: datetime,
           changed: datetime, failing: list[str]) -> Diagnosis:
    about, where = f"{ref['kind']} {row['object']}", ref.get("used_by")
    held = "may still use the old value: the mounted file is refreshed, a program that read it at start is not" \
        if str(where).startswith("volume") else "still hold the old value"
    summary = f"modified {age(changed, r.now)} ago{_by(row)}; pods started {age(started, r.now)} ago {held} ({where})"
    deploy = _deployment(p)
    action = Action(tool="k8s_rollout_restart", args={"namespace": p["namespace"], "deployment": deploy},
                    why=f"{about} was modified after its pods started ({where}): new pods read the new value") \
        if deploy else None
    owner = p["controlled_by"][-1] if p.get("controlled_by") else p["name"]
    return r.make("stale-config", about, summary, _quotes(p, ref, row, started, failing),
                  f"restart the pods of {owner} so they read the current {about}", rollback_fits=False, action=action)


def _by(row: dict[str, Any]) -> str:
    return f" by {row['by']}" if row.get("by") else ""


def _quotes(p: dict[str, Any], ref: dict[str, Any], row: dict[str, Any], started: datetime,
            failing: list[str]) -> list[str]:
    about = f"{ref['kind']} {row['object']}"
    return [*failing[:2], f"{row['at']} {about}: {row['what']}",
            f"Pod {p['namespace']}/{p['name']} started {_stamp(started)} ({ref.get('used_by')} reads {about})"]


def _stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def scaled_past_limit(r: Reader) -> Diagnosis | None:
    """A database out of connection slots, and a workload scaled up before the alert started: its new pods hold
    the connections. Scale it back to its count before, unless an autoscaler made the scale (it would undo it)
    or it is no longer at that count."""
    exhausted = [x for x in r.logs if EXHAUSTED.search(x)]
    if not exhausted:
        return None
    start = _alert_start(r)
    ups = [c for c in change_rows(r.results) if isinstance(c.get("to"), int) and c.get("kind") in
           ("Deployment", "StatefulSet", "HorizontalPodAutoscaler") and _when(c.get("at"))
           and _when(c["at"]) <= start + SCALE_BEFORE and (c.get("from") is None or c["to"] > c["from"])]
    if not ups:
        return None
    workloads = [c for c in ups if c["kind"] != "HorizontalPodAutoscaler"]  # they say from → to
    up = max(workloads or ups, key=lambda c: (c["to"] - (c.get("from") or 0), c["at"]))
    about = f"{up['kind']} {up['object']}"
    ns, name = up["object"].split("/", 1)
    was = up.get("from")
    by = f" by {up['by']}" if up.get("by") else ""
    summary = (f"scaled up {was} → {up['to']} {age(_when(up['at']), r.now)} ago{by}, before the database ran out "
               f"of connections" if was is not None else f"{up['what']} {age(_when(up['at']), r.now)} ago, before "
               "the database ran out of connections")
    quotes = [exhausted[0], f"{up['at']} {about}: {up['what']}", *exhausted[1:2]]
    if up["kind"] == "HorizontalPodAutoscaler" or up.get("by") == "horizontal-pod-autoscaler":
        return r.make("connections-exhausted-after-scale", about, summary, quotes,
                      f"lower {about}'s maxReplicas (or the pool size per pod) under the database's max_connections; "
                      "scaling by hand is undone by the autoscaler", rollback_fits=False)
    fits = up["kind"] == "Deployment" and was is not None and up.get("now", up["to"]) == up["to"]
    action = Action(tool="k8s_scale", args={"namespace": ns, "deployment": name, "replicas": was},
                    why=f"{about} was scaled {was} → {up['to']} before the database ran out of connections; back "
                        f"to {was} frees them", current=up["to"]) if fits else None
    now = f" (it runs {up['now']} now)" if up.get("now") not in (None, up["to"]) else ""
    return r.make("connections-exhausted-after-scale", about, summary, quotes,
                  f"scale {about} back to {was if was is not None else 'its count before'}{now}, or raise the "
                  "database's max_connections / put a pooler in front", rollback_fits=False, action=action)
