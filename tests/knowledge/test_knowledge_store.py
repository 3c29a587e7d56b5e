"""The Chroma store with the real offline embedding: playbook matching, incidents written back and found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.incident import Incident
from knowledge.store import KnowledgeStore
from tools.catalog import tool_map

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("alert", "labels", "playbook"), [
    ("KubePodCrashLooping", {"namespace": "shop", "pod": "checkout-5d8f", "container": "checkout"}, "crashloopbackoff"),
    ("KubeJobFailed", {"namespace": "batch", "job_name": "nightly-export"}, "job-failed"),
    ("KubeHpaMaxedOut", {"namespace": "shop", "horizontalpodautoscaler": "web"}, "hpa-maxed-out"),
    ("KubeNodeNotReady", {"node": "worker-3"}, "node-not-ready"),
    ("CPUThrottlingHigh", {"namespace": "shop", "pod": "web-1", "container": "web"}, "cpu-throttling"),
    ("KubePersistentVolumeFillingUp", {"namespace": "db", "persistentvolumeclaim": "data-pg-0"}, "volume-filling-up"),
])
def test_a_kube_prometheus_alert_name_matches_its_playbook_first(knowledge: KnowledgeStore, alert: str,
                                                                 labels: dict[str, str], playbook: str) -> None:
    """Before any object is read (or when none shows a failure mode), the alert's name picks the playbook."""
    hits = knowledge.match_playbooks(alert, labels, "")
    assert (hits[0].playbook.name, hits[0].matched_by) == (playbook, f"alert {alert}")


def test_an_unknown_alert_is_matched_by_its_description(knowledge: KnowledgeStore) -> None:
    hits = knowledge.match_playbooks("WorkerDiskAlmostFull", {"instance": "worker-3"},
                                     "Filesystem /var/lib/kubelet on worker-3 has 4% space left; pods were evicted")
    assert hits[0].playbook.name == "node-pressure"


def test_a_signal_word_beats_plain_similarity(knowledge: KnowledgeStore) -> None:
    hits = knowledge.match_playbooks("ContainerWaitingTooLong", {}, "container api in ErrImagePull for 10 minutes")
    assert (hits[0].playbook.name, hits[0].matched_by) == ("imagepullbackoff", "signal ErrImagePull")


def test_the_fallback_playbook_is_not_a_match(knowledge: KnowledgeStore) -> None:
    hits = knowledge.match_playbooks(None, {}, "general health check of a service", k=20)
    assert "service-health" not in {h.playbook.name for h in hits}


def test_label_matchers_decide_between_playbooks_for_one_alert(tmp_path: Path) -> None:
    body = ("---\nname: {name}\ntitle: {name} playbook\nalerts: [KubePodCrashLooping]\nlabels: {labels}\n"
            "diagnosis:\n  - {{tool: k8s_list, args: {{namespace: \"{{namespace}}\"}}}}\n---\ntext\n")
    (tmp_path / "system.md").write_text(body.format(name="system-crash", labels="{namespace: kube-system|monitoring}"))
    (tmp_path / "apps.md").write_text(body.format(name="app-crash", labels="{namespace: '(?!kube-system).*'}"))
    store = KnowledgeStore.open(tmp_path / "db", tool_map())
    assert store.ingest_playbooks(tmp_path) == 2
    top = store.match_playbooks("KubePodCrashLooping", {"namespace": "kube-system"}, "")[0]
    assert top.playbook.name == "system-crash"
    top = store.match_playbooks("KubePodCrashLooping", {"namespace": "shop"}, "")[0]
    assert top.playbook.name == "app-crash"


def incident(i: str, title: str, kind: str, root_cause: str, actions: list[str], **kw: object) -> Incident:
    return Incident(id=i, title=title, kind=kind, root_cause=root_cause, actions=actions, outcome="resolved",
                    started_at=T0, resolved_at=T0 + timedelta(minutes=18), **kw)  # type: ignore[arg-type]


def test_resolved_incidents_written_back_are_found_by_meaning(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "db", tool_map())
    store.add_incident(incident("inc-1", "checkout crash-looping after release 1.5.0", "crashloopbackoff",
                                "DATABASE_URL removed from the pod template", ["k8s_rollback shop/checkout"],
                                service="checkout", namespace="shop", evidence=["FATAL DATABASE_URL is not set"]))
    store.add_incident(incident("inc-2", "payments-api OOMKilled every 40 minutes", "oomkilled",
                                "unbounded response cache", ["k8s_rollout_restart payments/payments-api"],
                                service="payments-api", namespace="payments"))
    store.add_incident(incident("inc-3", "search latency p99 at 4s", "latency-regression",
                                "missing index on products table", ["k8s_scale shop/search 6"],
                                service="search", namespace="shop"))
    hits = store.similar_incidents("pods keep restarting, config error: environment variable not set", k=2)
    assert hits[0].id == "inc-1"
    got = hits[0].incident
    assert got is not None and got.time_to_resolve_s == 18 * 60 and got.actions == ["k8s_rollback shop/checkout"]
    hits = store.similar_incidents("payments pods OOMKilled again", k=1)
    assert [h.id for h in hits] == ["inc-2"]
    only_shop = store.similar_incidents("out of memory", k=5, where={"namespace": "shop"})
    assert {h.id for h in only_shop} == {"inc-1", "inc-3"}


def test_an_incident_written_twice_is_stored_once_with_its_last_outcome(tmp_path: Path) -> None:
    store = KnowledgeStore.open(tmp_path / "db", tool_map())
    first = incident("inc-9", "cart 503s", "http-5xx-spike", "", [])
    store.add_incident(first)
    store.add_incident(first.model_copy(update={"outcome": "mitigated", "root_cause": "redis failover"}))
    assert store.count("incidents") == 1
    got = store.similar_incidents("cart 503", k=5)[0].incident
    assert got is not None and (got.outcome, got.root_cause) == ("mitigated", "redis failover")


def test_search_mixes_playbooks_and_incidents(knowledge: KnowledgeStore) -> None:
    store = knowledge
    store.add_incident(incident("inc-7", "registry credentials expired, new pods cannot pull image", "imagepullbackoff",
                                "pull secret rotated without updating the namespace", ["k8s_rollback shop/cart"]))
    hits = store.search("image pull failed, registry unauthorized", k=3, kind="both")
    assert {h.kind for h in hits} == {"playbook", "incident"}
    top = {h.id for h in hits[:2]}  # the incident, and an image-pull playbook (the failure's, or the pull secret's)
    assert "inc-7" in top and top & {"imagepullbackoff", "imagepull-secret-missing"}, top
    assert [h.kind for h in store.search("image pull failed", k=3, kind="playbooks")] == ["playbook"] * 3


def test_a_reopened_store_answers_offline(knowledge: KnowledgeStore) -> None:
    again = KnowledgeStore(knowledge.path, tool_map())
    assert again.count("playbooks") >= 9
    assert again.search("OOMKilled exit code 137", k=1, kind="playbooks")[0].id == "oomkilled"
