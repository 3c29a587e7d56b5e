"""Reading pods as kubectl shows them: the STATUS column, health, a row per pod, each container's state.

Environment variable values never leave this module: only their names are reported.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from tools.k8s_api import (
    age,
    iso,
)

RECENT_RESTART = timedelta(hours=1)


def pod_status(p: Any) -> str:
    """The STATUS column of kubectl get pods (Init:CrashLoopBackOff, Init:0/2, PodInitializing, …)."""
    if p.metadata.deletion_timestamp:
        return "Terminating"
    reason = p.status.reason or p.status.phase or "Unknown"
    inits = p.status.init_container_statuses or []
    for i, cs in enumerate(inits):
        state = cs.state
        if state and state.terminated and state.terminated.exit_code == 0:
            continue
        if state and state.terminated:
            return f"Init:{state.terminated.reason or f'ExitCode:{state.terminated.exit_code}'}"
        if state and state.waiting and state.waiting.reason and state.waiting.reason != "PodInitializing":
            return f"Init:{state.waiting.reason}"
        return f"Init:{i}/{len(inits)}"
    if not p.spec.node_name and p.status.phase == "Pending":
        return "Pending"
    for cs in p.status.container_statuses or []:
        state = cs.state
        if state and state.waiting and state.waiting.reason:
            return state.waiting.reason
        if state and state.terminated:
            t = state.terminated
            return t.reason or (f"Signal:{t.signal}" if t.signal else f"ExitCode:{t.exit_code}")
    return reason


def healthy(p: Any, now: datetime) -> bool:
    """Succeeded, or Running with every container ready and no container restarted in the last hour."""
    if p.status.phase == "Succeeded":
        return True
    statuses = p.status.container_statuses or []
    recent = [t for cs in statuses if cs.last_state and (t := cs.last_state.terminated)
              and t.finished_at and now - t.finished_at < RECENT_RESTART]
    return (p.status.phase == "Running" and bool(statuses) and all(cs.ready for cs in statuses)
            and not p.metadata.deletion_timestamp and not recent)


def _last_termination(p: Any, now: datetime) -> dict[str, Any] | None:
    statuses = [*(p.status.init_container_statuses or []), *(p.status.container_statuses or [])]
    ended = [(cs.name, cs.last_state.terminated) for cs in statuses if cs.last_state and cs.last_state.terminated]
    if not ended:
        return None
    name, t = max(ended, key=lambda e: e[1].finished_at or now)
    return {"container": name, "reason": t.reason, "exit_code": t.exit_code, "message": t.message or None,
            "ago": age(t.finished_at, now)}


def pod_row(p: Any, now: datetime) -> dict[str, Any]:
    statuses = p.status.container_statuses or []
    return {
        "name": p.metadata.name,
        "status": pod_status(p),
        "ready": f"{sum(1 for cs in statuses if cs.ready)}/{len(p.spec.containers)}",
        "restarts": sum(cs.restart_count for cs in statuses),
        "last_termination": _last_termination(p, now),
        "age": age(p.metadata.creation_timestamp, now),
        "node": p.spec.node_name,
        "healthy": healthy(p, now),
    }


def pods_summary(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    ready = sum(1 for r in rows if r["healthy"])
    return f"{len(rows)} pods, {ready} healthy: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def container_state(state: Any, now: datetime) -> dict[str, Any] | None:
    if state is None:
        return None
    if state.running:
        return {"state": "running", "since": iso(state.running.started_at)}
    if state.waiting:
        return {"state": "waiting", "reason": state.waiting.reason, "message": state.waiting.message}
    if state.terminated:
        t = state.terminated
        return {"state": "terminated", "reason": t.reason, "exit_code": t.exit_code, "message": t.message or None,
                "started": iso(t.started_at), "finished": iso(t.finished_at), "ago": age(t.finished_at, now)}
    return None


_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z0-9.-]+)")
_HOST_PORT = re.compile(r"^([a-z0-9][-a-z0-9.]*):\d{2,5}$")


def env_hosts(c: Any) -> list[str]:
    """The host an env value points at (a URL's host, or a plain host:port's): where the container connects.
    Only the host: the value itself never leaves the tool (user, password, port and path may be secrets)."""
    hosts = [m.group(1) for e in c.env or [] if (m := _URL_HOST.match(e.value or "") or
                                                 _HOST_PORT.match(e.value or ""))]
    return list(dict.fromkeys(hosts))


def container(c: Any, cs: Any, now: datetime, init: bool = False) -> dict[str, Any]:
    resources = c.resources
    env_from = [f"configMap/{s.config_map_ref.name}" if s.config_map_ref else f"secret/{s.secret_ref.name}"
                for s in c.env_from or [] if s.config_map_ref or s.secret_ref]
    return {
        "name": c.name,
        "image": c.image,
        "ready": cs.ready if cs else False,
        "restarts": cs.restart_count if cs else 0,
        **({"init": True} if init else {}),
        "command": [*(c.command or []), *(c.args or [])] or None,
        "state": container_state(cs.state, now) if cs else None,
        "last_state": container_state(cs.last_state, now) if cs else None,
        "env": [e.name for e in c.env or []],  # names only: values may be secrets
        "env_hosts": env_hosts(c),
        "env_from": env_from,
        "limits": dict(resources.limits or {}) if resources else {},
        "requests": dict(resources.requests or {}) if resources else {},
    }


