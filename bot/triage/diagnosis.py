"""The failure mode the objects' state shows, the decisive words, and what can fix it.

`diagnose(alert, results)` reads what triage read (reads.plan and its follow-ups) and decides, in code and
in this order: the node the alert names (not ready, under pressure, at its pod limit); the claim (pending,
filling up); the HPA at its maximum; a failed Job; the failing pod's containers (an init container, an image
pull, a missing ConfigMap or Secret, OOMKilled, a probe killing it, a crash loop), a Pending pod the scheduler
cannot place; a stalled rollout; what changed (pods older than a Secret or ConfigMap they read, a scale-up
before a database ran out of connections); then what the logs and the alert say when every object looks healthy
(an expired certificate, DNS or egress blocked by a NetworkPolicy, a dependency down or slow, throttling,
latency or errors since a release); when none fits, `cause-not-found` with the most telling lines of the
alerted workload and its followed neighbours, never the nearest mode's advice. The mode names the playbook.

Actions follow the diagnosis, never the playbook alone: a rollback only where the running pod template began
the failure (and the mode is one a release causes) and an earlier revision runs a different template (a
restart's revision runs the same one: tools/k8s_revisions.py chooses); a rollout restart only where the pods
started before the Secret or ConfigMap they read was modified; a scale only back to the count before the
scale-up that exhausted a database (rules/changes.py, `Diagnosis.action`). Nothing else is proposed by triage
(a restart clears none of the other modes; scaling schedules nothing and feeds no dependency). When no
action of opsbot's fixes it, `advice` says in one line what a person should do.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.intake.target import Target
from bot.triage.rules import (
    alert,
    autoscaling,
    changes,
    cni,
    dependencies,
    identity,
    jobs,
    network,
    nodes,
    pods,
    quota,
    services,
    storage,
    workloads,
)
from bot.triage.rules.base import Diagnosis, Reader
from bot.triage.subject import Subject
from tools.base import ToolResult

__all__ = ["Diagnosis", "diagnose"]

# the order decides: what stopped the objects before what their logs say, the alert alone last
RULES = (nodes.node, storage.claim, storage.volume_zone, autoscaling.hpa, autoscaling.missing_request,
         jobs.cronjob, jobs.job, quota.quota, quota.limit_range, quota.service_account, quota.webhook,
         cni.cni, workloads.split, identity.missing_identity,
         identity.pull_secret, pods.pod, workloads.rollout, changes.stale_config, changes.scaled_past_limit,
         network.certificate, network.network_policy, network.cluster_dns, alert.throttling, services.selector,
         services.target_port, dependencies.dependency, alert.symptom, alert.not_found)


def diagnose(subject: Subject, results: list[ToolResult], now: datetime | None = None,
             target: Target | None = None) -> Diagnosis | None:
    """The first rule that recognises the state (see the module doc); None only when nothing could be read.
    `target` is the alert's object as triage resolved it (owner chain, labels checked against the cluster)."""
    r = Reader(subject, results, now or datetime.now(UTC), target)
    for rule in RULES:
        found = rule(r)
        if found:
            return found
    return None
