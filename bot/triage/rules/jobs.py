"""Jobs and CronJobs: a CronJob left suspended, a CronJob whose due runs do not succeed (its Jobs fail), and a
Job that failed, with its pod counts and what its pod said."""

from __future__ import annotations

from typing import Any

from bot.triage.quotes import container_line, pod_logs, telling
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader


def _failed(j: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in j.get("conditions", []) if c.get("type") == "Failed" and c.get("status") == "True"), None)


def _why(r: Reader, j: dict[str, Any]) -> list[str]:
    """A Job's counts as kubectl describe gives them, and what its newest failed pod that was read said."""
    quotes = [f"Job {j['name']}: Pods Statuses: {j.get('pods_statuses')}; backoffLimit {j.get('backoff_limit')}"]
    pods = [p for p in r.pods if f"Job/{j['name']}" in p.get("controlled_by", []) or p["name"].startswith(j["name"])]
    for p in pods[:1]:
        for c in p.get("containers", []):
            quotes += [f"{p['name']} {container_line(c)}",
                       *(f"{p['name']} {c['name']}: {x}"
                         for x in telling(pod_logs(r.results, p["name"], c["name"]), 4))]
    return quotes


def cronjob(r: Reader) -> Diagnosis | None:
    for c in described(r.results, "CronJob"):
        ns, name = c["namespace"], c["name"]
        about = f"CronJob {ns}/{name}"
        last = f"last successful run {c.get('last_successful') or 'never'}, last scheduled {c.get('last_schedule')}"
        if c.get("suspend"):
            since = (f" since {c['suspended_since']} (set by {c.get('suspended_by')})" if c.get("suspended_since")
                     else f" (no run since {c.get('last_schedule') or 'it was created'})")
            return r.make("cronjob-suspended", about, f"suspend: true{since}: no Job is created",
                          [f"schedule {c.get('schedule')}; {last}"],
                          f"unsuspend it: kubectl patch cronjob {name} -n {ns} -p "
                          f"'{{\"spec\":{{\"suspend\":false}}}}'; then run the missed job now: "
                          f"kubectl create job --from=cronjob/{name} {name}-manual -n {ns}",
                          False)
        if str(c.get("status")).startswith("no success"):
            jobs = {j["name"]: j for j in described(r.results, "Job")}
            failed = [jobs[j["name"]] for j in c.get("jobs", []) if j["name"] in jobs and _failed(jobs[j["name"]])]
            if not failed:
                return None  # overdue, but why is not read: no guess
            cond = _failed(failed[0]) or {}
            return r.make("cronjob-stale", about, f"{c['status']}: its Jobs fail ({failed[0]['name']}: "
                          f"{cond.get('reason')}: {cond.get('message')})",
                          [f"schedule {c.get('schedule')}; {last}", *_why(r, failed[0]),
                           *(f"Job {j['name']}: {j.get('status')}" for j in failed[1:])],
                          f"fix what the Jobs' pods say, then run it once by hand: kubectl create job "
                          f"--from=cronjob/{name} {name}-manual -n {ns}", False)
    return None


def job(r: Reader) -> Diagnosis | None:
    for j in described(r.results, "Job"):
        failed = _failed(j)
        if failed:
            return r.make("job-failed", f"Job {j['namespace']}/{j['name']}",
                          f"{failed.get('reason')}: {failed.get('message')}", _why(r, j),
                          f"fix what the Job's pods say, then re-run it (kubectl create job --from=cronjob/NAME, "
                          f"or delete and re-apply Job {j['name']})", False)
    return None
