"""Jobs: a Job that failed, and what its pod said."""

from __future__ import annotations

from bot.triage.quotes import container_line, pod_logs, telling
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader


def job(r: Reader) -> Diagnosis | None:
    for j in described(r.results, "Job"):
        failed = next((c for c in j.get("conditions", []) if c.get("type") == "Failed"
                       and c.get("status") == "True"), None)
        if failed:
            pods = [p for p in r.pods if p.get("name", "").startswith(j["name"])]
            quotes = []
            for p in pods[:1]:
                for c in p.get("containers", []):
                    quotes += [f"{p['name']} {container_line(c)}",
                               *(f"{p['name']} {c['name']}: {x}" for x in telling(pod_logs(r.results, p["name"],
                                                                                             c["name"]), 5))]
            return r.make("job-failed", f"Job {j['namespace']}/{j['name']}",
                          f"{failed.get('reason')}: {failed.get('message')}", quotes,
                          f"fix what the Job's pods say, then re-run it (kubectl create job --from=cronjob/NAME, "
                          f"or delete and re-apply Job {j['name']})", False)
    return None
