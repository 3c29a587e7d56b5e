"""Retrieval figures: recall@3 of the right playbook over labelled alerts, and query latency of
`similar_incidents` with 10,000 stored incidents.

    python -m bench.retrieval [--incidents 10000] [--queries 100] [--dir DIR] [--fresh]

The alerts are bench/data/alerts.yaml (alert name, labels, annotations, the right playbook). The
incidents are synthetic, generated from a fixed seed and bulk-added in batches of 1,000; 2,000 of them
are embedded by the model (about 40 texts/s on 2 cores) and the rest reuse those vectors with noise
(see fill_store; `--embedded 10000` embeds all, in minutes). The store is kept in --dir (default
.opsbot/bench) and reused by the next run; --fresh rebuilds it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.settings import KnowledgeSettings
from knowledge.incident import Incident
from knowledge.store import KnowledgeStore
from tools.catalog import tool_map

DATA = Path(__file__).parent / "data" / "alerts.yaml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

SERVICES = [("shop", s) for s in ("checkout", "cart", "catalog", "search", "recommendations", "storefront")] + \
           [("payments", s) for s in ("payments-api", "ledger", "fraud-check")] + \
           [("auth", s) for s in ("login", "auth-api")] + [("data", s) for s in ("etl", "kafka-connect", "clickhouse")]
KINDS: dict[str, list[tuple[str, str, str]]] = {  # kind → (what happened, root cause, action)
    "crashloopbackoff": [
        ("{s} pods crash-looping after release {v}", "required env var {env} dropped from the pod template", "k8s_rollback"),
        ("{s} containers exit 1 at start", "database migration {v} failed on start-up", "k8s_rollback"),
        ("{s} CrashLoopBackOff on new nodes", "config map {env} missing in the namespace", "k8s_rollout_restart"),
    ],
    "oomkilled": [
        ("{s} OOMKilled every {n} minutes", "unbounded in-process cache after release {v}", "k8s_rollout_restart"),
        ("{s} killed with exit 137 under load", "memory limit {n}0Mi too low for peak traffic", "k8s_scale"),
    ],
    "imagepullbackoff": [
        ("{s} new pods stuck in ImagePullBackOff", "tag {v} never pushed: CI publish step failed", "k8s_rollback"),
        ("{s} cannot pull image from registry", "pull secret expired in namespace", "k8s_rollback"),
    ],
    "unschedulable-pods": [
        ("{s} replicas pending after scale-up to {n}", "cluster out of CPU, autoscaler at max nodes", "k8s_scale"),
        ("{s} pods unschedulable", "node affinity zone={env} matches no node", "k8s_rollback"),
    ],
    "failed-rollout": [
        ("{s} rollout {v} stuck at progress deadline", "readiness probe path changed to /{env}", "k8s_rollback"),
    ],
    "http-5xx-spike": [
        ("{s} 5xx ratio at {n}% after deploy {v}", "client base path changed, upstream answers 404", "k8s_rollback"),
        ("{s} returning 503 during traffic peak", "connection pool exhausted at {n} connections", "k8s_scale"),
        ("{s} 500 errors on POST", "null pointer in {env} handler introduced in {v}", "k8s_rollback"),
    ],
    "latency-regression": [
        ("{s} p99 latency {n}00ms above objective", "missing index on {env} table after migration {v}", "k8s_rollback"),
        ("{s} slow responses, CPU throttled", "CPU limit too low for {n} rps", "k8s_scale"),
    ],
    "node-pressure": [
        ("node worker-{n} DiskPressure evicting {s} pods", "container logs without rotation filled /var", "k8s_delete_pod"),
        ("node worker-{n} MemoryPressure", "{s} pods without memory limits", "k8s_delete_pod"),
    ],
}
ENV_WORDS = ["DATABASE_URL", "REDIS_HOST", "orders", "users", "healthz", "eu-west-1c", "payments", "sessions"]
OUTCOMES = ["resolved"] * 7 + ["mitigated", "unresolved", "false_positive"]
QUERIES = [
    "checkout pods crash at start, environment variable missing",
    "payments-api memory grows until OOMKilled",
    "new release cannot pull its image, tag not found",
    "pods pending, not enough cpu in the cluster",
    "rollout stuck, readiness probe failing",
    "500 errors after deploy, upstream returns 404",
    "search latency p99 too high after migration",
    "node disk full, pods evicted",
    "503 under load, connection pool exhausted",
    "container exits with code 137",
]


def load_alerts(path: Path = DATA) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["alerts"]


def recall_at_3(store: KnowledgeStore, alerts: list[dict[str, Any]]) -> tuple[float, float, list[str]]:
    """(recall@1, recall@3, misses at 3)."""
    first = top3 = 0
    misses = []
    for a in alerts:
        notes = a.get("annotations", {})
        text = " ".join(str(notes[k]) for k in ("summary", "description") if k in notes)
        names = [h.playbook.name for h in store.match_playbooks(a["name"], a.get("labels", {}), text, k=3)]
        first += names[:1] == [a["playbook"]]
        top3 += a["playbook"] in names
        if a["playbook"] not in names:
            misses.append(f"{a['name']}: expected {a['playbook']}, got {', '.join(names)}")
    return first / len(alerts), top3 / len(alerts), misses


def synthetic_incidents(n: int, seed: int = 7) -> list[Incident]:
    rng = random.Random(seed)
    out = []
    kinds = list(KINDS)
    for i in range(n):
        kind = rng.choice(kinds)
        what, cause, action = rng.choice(KINDS[kind])
        ns, svc = rng.choice(SERVICES)
        fill = {"s": svc, "v": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
                "n": rng.randint(2, 95), "env": rng.choice(ENV_WORDS)}
        started = T0 + timedelta(minutes=rng.randint(0, 525_600))
        outcome = rng.choice(OUTCOMES)
        resolved = started + timedelta(minutes=rng.randint(3, 240)) if outcome != "unresolved" else None
        target = f"{ns}/{svc}"
        out.append(Incident(
            id=f"bench-{i:05d}", title=what.format(**fill), kind=kind, service=svc, namespace=ns,
            root_cause=cause.format(**fill),
            actions=[f"{action} {target}"], outcome=outcome,  # type: ignore[arg-type]
            started_at=started, resolved_at=resolved))
    return out


def fill_store(store: KnowledgeStore, n: int, embedded: int) -> float:
    """Store `n` synthetic incidents; seconds taken (0 when the store already holds them).

    The first `embedded` are embedded by the model; each of the others is stored with the vector of one of
    those plus small noise (cosine ≈ 0.98), next to its own document and metadata. HNSW search time depends
    on the number and dimension of the vectors, not on who computed them, and embedding 10,000 texts with
    the CPU model takes minutes on 2 cores. `--embedded N` = `--incidents N` embeds them all.
    """
    have = store.count("incidents")
    if have >= n:
        return 0.0
    if have:
        store.incident_col.delete(ids=store.incident_col.get(include=[])["ids"])
    started = time.perf_counter()
    incidents = synthetic_incidents(n)
    embedded = min(embedded, n)
    vectors = np.asarray(store.embedding([i.document() for i in incidents[:embedded]]), dtype=np.float32)
    print(f"  embedded {embedded} incidents in {time.perf_counter() - started:.0f}s", flush=True)
    rng = np.random.default_rng(7)
    pool = vectors[rng.integers(0, embedded, n - embedded)]
    noisy = pool + rng.normal(0, 0.2 / np.sqrt(pool.shape[1]), pool.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    all_vectors = np.concatenate([vectors, noisy])
    batch = 1000
    for i in range(0, n, batch):
        chunk = incidents[i:i + batch]
        store.incident_col.upsert(ids=[x.id for x in chunk], documents=[x.document() for x in chunk],
                                  metadatas=[x.metadata() for x in chunk], embeddings=all_vectors[i:i + batch])
    return time.perf_counter() - started


def latency(store: KnowledgeStore, queries: int) -> tuple[float, float]:
    store.similar_incidents(QUERIES[0], k=5)  # warm-up
    took = []
    for i in range(queries):
        t = time.perf_counter()
        store.similar_incidents(QUERIES[i % len(QUERIES)], k=5)
        took.append((time.perf_counter() - t) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(0.95 * len(took)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--embedded", type=int, default=2_000, help="incidents embedded by the model (the rest "
                        "reuse their vectors with noise); set it to --incidents to embed them all")
    parser.add_argument("--dir", type=Path, default=Path(".opsbot/bench"))
    parser.add_argument("--fresh", action="store_true", help="rebuild the incident store")
    args = parser.parse_args()

    if args.fresh and args.dir.exists():
        shutil.rmtree(args.dir)
    t = time.perf_counter()
    folder = args.dir / f"store-{args.incidents}-{min(args.embedded, args.incidents)}"
    store = KnowledgeStore.open(folder, tool_map(), KnowledgeSettings().playbooks_dir)
    print(f"store open (model loaded, playbooks ingested): {time.perf_counter() - t:.1f}s")

    alerts = load_alerts()
    r1, r3, misses = recall_at_3(store, alerts)
    print(f"playbook retrieval over {len(alerts)} labelled alerts: recall@1 {r1:.2f}, recall@3 {r3:.2f}")
    for m in misses:
        print(f"  miss: {m}")

    filled = fill_store(store, args.incidents, args.embedded)
    how = f"added in {filled:.0f}s, {min(args.embedded, args.incidents)} embedded by the model" if filled \
        else "reused from an earlier run"
    print(f"incidents stored: {store.count('incidents')} ({how})")
    p50, p95 = latency(store, args.queries)
    print(f"similar_incidents(k=5) over {store.count('incidents')} incidents, {args.queries} queries: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (query embedding included)")


if __name__ == "__main__":
    main()
