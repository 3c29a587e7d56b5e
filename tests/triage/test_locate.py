"""The alert's object from any label that names one, checked against the cluster (the every-kind cluster, through
the door): a Job under Prometheus's `job` label, a Job named without its namespace; a scrape job's name that names
no object is not taken for one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.guard.door import Caller
from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.settings import Settings
from bot.triage.evidence import ReadChecks
from bot.triage.locate import locate
from tests.support.doors import make_door

TRIAGE = Caller(identity="opsbot:triage", via="triage")


def alert(name: str, **labels: str) -> Alert:
    labels = {"alertname": name, "severity": "warning", **labels}
    return Alert(source="alertmanager", name=name, status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=datetime.now(UTC))


def test_a_job_named_under_the_job_label_is_the_target(every_kind_door_settings: Settings) -> None:
    door = make_door(every_kind_door_settings)
    t = locate(door, TRIAGE, alert("BatchJobFailed", namespace="batch", job="db-migrate"))
    assert (t.kind, t.namespace, t.name, t.via) == ("Job", "batch", "db-migrate", "job")
    ev = ReadChecks(door)(alert("BatchJobFailed", namespace="batch", job="db-migrate"))
    assert ev.diagnosis is not None and ev.diagnosis.about == "Job batch/db-migrate"
    assert "All host(s) tried for db query failed" in " ".join(ev.diagnosis.quotes)


def test_a_scrape_jobs_name_is_not_an_object(every_kind_door_settings: Settings) -> None:
    door = make_door(every_kind_door_settings)
    t = locate(door, TRIAGE, alert("TargetDown", namespace="batch", job="kube-state-metrics"))
    assert t.kind is None and t.namespace == "batch"
    t = locate(door, TRIAGE, alert("BatchJobFailed", namespace="batch", job="nightly-export"))
    assert t.kind is None, "no Job or CronJob of that name exists: the label is dismissed only after looking"


def test_a_job_named_without_its_namespace_is_found_where_it_is(every_kind_door_settings: Settings) -> None:
    door = make_door(every_kind_door_settings)
    t = locate(door, TRIAGE, alert("KubeJobFailed", job_name="db-migrate"))
    assert (t.kind, t.namespace, t.name) == ("Job", "batch", "db-migrate")
