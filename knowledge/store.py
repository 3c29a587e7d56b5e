"""The knowledge store: Chroma (on disk, or a shared server), with a `playbooks` and an `incidents` collection.

- `ingest_playbooks(folder)` validates every playbook, its steps against the tools the store was given, and
  upserts them (by name); returns how many.
- `match_playbooks(alert_name, labels, text, k)` ranks playbooks for an alert: an alert name listed in a
  playbook's front matter (with its label matchers satisfied) wins, then a signal word of the playbook
  (CrashLoopBackOff, OOMKilled…) found in the text, then vector similarity of the text.
- `search(text, k, kind)` and `similar_incidents(text, k)`: nearest neighbours by meaning.
- `add_incident(incident)`: a resolved incident is written back with its outcome (upsert by id);
  `mark_incident(id, feedback)` rewrites a stored one with people's latest mark (knowledge/feedback.py).

The offline embedding function is passed to every collection: reopened without it, Chroma would fall
back to its downloading default. It runs in this process, also when the collections live on a Chroma
server (knowledge/client.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from knowledge.client import chroma_client
from knowledge.embedding import offline_embedding
from knowledge.feedback import Feedback
from knowledge.incident import Incident
from knowledge.playbooks import Playbook, load_dir

Kind = Literal["playbooks", "incidents", "both"]
ALERT_BONUS = 2.0
SIGNAL_BONUS = 1.0
EXCERPT_CHARS = 240
ADD_BATCH = 500
_WORD = re.compile(r"[A-Za-z0-9_]+")


class PlaybookHit(BaseModel):
    playbook: Playbook
    score: float
    matched_by: str  # "alert KubePodCrashLooping", "signal OOMKilled", "similar text"
    similarity: float


class Hit(BaseModel):
    kind: Literal["playbook", "incident"]
    id: str
    title: str
    score: float
    excerpt: str
    playbook: Playbook | None = None
    incident: Incident | None = None


def _similarity(distance: float) -> float:
    return round(1.0 - distance, 4)  # cosine distance → similarity in [-1, 1]


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def spaced(alert_name: str) -> str:
    """'KubePodCrashLooping' → 'Kube Pod Crash Looping': an unknown alert name still says something."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", alert_name)


class KnowledgeStore:
    def __init__(self, path: Path, tools: Mapping[str, Any], model_dir: Path | None = None, url: str | None = None):
        """`tools` maps tool names to tools: the playbooks' steps are checked against their argument models.
        With `url` (knowledge.chroma_url) the collections live on that Chroma server, and `path` only holds
        the embedding model's files; an unreachable server raises KnowledgeUnavailable."""
        self.path, self.tools = path, tools
        path.mkdir(parents=True, exist_ok=True)
        self.client = chroma_client(path, url)
        self.embedding = offline_embedding(model_dir or path / "model")
        space = {"hnsw": {"space": "cosine"}}
        self.playbook_col = self.client.get_or_create_collection(
            "playbooks", embedding_function=self.embedding, configuration=space)  # type: ignore[arg-type]
        self.incident_col = self.client.get_or_create_collection(
            "incidents", embedding_function=self.embedding, configuration=space)  # type: ignore[arg-type]
        self._playbooks: dict[str, Playbook] | None = None

    @classmethod
    def open(cls, path: Path, tools: Mapping[str, Any], playbooks_dir: Path | None = None,
             model_dir: Path | None = None, url: str | None = None) -> KnowledgeStore:
        """Open the store; an empty playbook collection is filled from `playbooks_dir` (the shipped ones)."""
        store = cls(path, tools, model_dir, url)
        if playbooks_dir is not None and store.playbook_col.count() == 0:
            store.ingest_playbooks(playbooks_dir)
        return store

    # -- playbooks ------------------------------------------------------------------------------------

    def ingest_playbooks(self, folder: Path) -> int:
        """Validate every playbook in `folder` (FileError names file and line) and upsert them by name."""
        playbooks = load_dir(folder, self.tools)
        self.playbook_col.upsert(
            ids=[p.name for p in playbooks],
            documents=[p.search_text() for p in playbooks],
            metadatas=[{"title": p.title, "fallback": p.fallback, "record": p.model_dump_json()} for p in playbooks],
        )
        self._playbooks = None
        return len(playbooks)

    def playbooks(self) -> dict[str, Playbook]:
        if self._playbooks is None:
            got = self.playbook_col.get(include=["metadatas"])
            self._playbooks = {i: Playbook.model_validate_json(str(m["record"]))
                               for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
        return self._playbooks

    def playbook(self, name: str) -> Playbook | None:
        return self.playbooks().get(name)

    def _known(self, names: Iterable[str]) -> dict[str, Playbook]:
        """The playbooks, read again when the collection holds one this store has not read: another process
        sharing the Chroma server ingested it."""
        if not set(names) <= self.playbooks().keys():
            self._playbooks = None
        return self.playbooks()

    def _playbook_similarities(self, text: str) -> dict[str, float]:
        n = self.playbook_col.count()
        if not text.strip() or n == 0:
            return {}
        got = self.playbook_col.query(query_texts=[text], n_results=n, include=["distances"])
        return {i: _similarity(d) for i, d in zip(got["ids"][0], (got["distances"] or [[]])[0], strict=True)}

    def match_playbooks(self, alert_name: str | None = None, labels: Mapping[str, str] | None = None,
                        text: str = "", k: int = 3, include_fallback: bool = False) -> list[PlaybookHit]:
        """Playbooks for an alert, best first: alert name (labels matching) > signal word in text > similarity."""
        labels = labels or {}
        query = " ".join(p for p in (spaced(alert_name) if alert_name else "", text) if p)
        sims = self._playbook_similarities(query)
        words = set(_WORD.findall(text))
        hits = []
        for name, pb in self._known(sims).items():
            if pb.fallback and not include_fallback:
                continue
            sim = sims.get(name, 0.0)
            signal = next((s for s in pb.signals if s in words), None)
            if alert_name and alert_name in pb.alerts and pb.labels_match(labels):
                score, why = ALERT_BONUS + sim, f"alert {alert_name}"
            elif signal and pb.labels_match(labels):
                score, why = SIGNAL_BONUS + sim, f"signal {signal}"
            else:
                score, why = sim, "similar text"
            hits.append(PlaybookHit(playbook=pb, score=round(score, 4), matched_by=why, similarity=sim))
        hits.sort(key=lambda h: (-h.score, h.playbook.name))
        return hits[:k]

    # -- incidents ------------------------------------------------------------------------------------

    def add_incident(self, incident: Incident) -> None:
        self.add_incidents([incident])

    def add_incidents(self, incidents: Iterable[Incident]) -> int:
        """Upsert incidents by id, in batches; returns how many were written."""
        batch: list[Incident] = []
        written = 0
        for incident in incidents:
            batch.append(incident)
            if len(batch) >= ADD_BATCH:
                written += self._upsert(batch)
                batch = []
        return written + (self._upsert(batch) if batch else 0)

    def _upsert(self, batch: list[Incident]) -> int:
        self.incident_col.upsert(ids=[i.id for i in batch], documents=[i.document() for i in batch],
                                 metadatas=[i.metadata() for i in batch])
        return len(batch)

    def incident(self, incident_id: str) -> Incident | None:
        got = self.incident_col.get(ids=[incident_id], include=["metadatas"])
        metas = got["metadatas"] or []
        return Incident.model_validate_json(str(metas[0]["record"])) if metas else None

    def mark_incident(self, incident_id: str, feedback: Feedback) -> Incident | None:
        """The stored incident rewritten with people's latest mark (its document and metadata say it); None when
        it is not stored (yet: an incident is written when it resolves, with the mark its card carries)."""
        incident = self.incident(incident_id)
        if incident is None:
            return None
        marked = incident.marked(feedback)
        self._upsert([marked])
        return marked

    def similar_incidents(self, text: str, k: int = 5, where: dict[str, Any] | None = None) -> list[Hit]:
        """The `k` past incidents nearest in meaning to `text`; `where` filters on kind, service, outcome…"""
        n = self.incident_col.count()
        if n == 0 or not text.strip():
            return []
        got = self.incident_col.query(query_texts=[text], n_results=min(k, n), where=where,
                                      include=["documents", "metadatas", "distances"])
        hits = []
        for i, doc, meta, dist in zip(got["ids"][0], (got["documents"] or [[]])[0], (got["metadatas"] or [[]])[0],
                                      (got["distances"] or [[]])[0], strict=True):
            incident = Incident.model_validate(json.loads(str(meta["record"])))
            hits.append(Hit(kind="incident", id=i, title=incident.title, score=_similarity(dist),
                            excerpt=_excerpt(doc or ""), incident=incident))
        return hits

    def count(self, kind: Literal["playbooks", "incidents"]) -> int:
        return (self.playbook_col if kind == "playbooks" else self.incident_col).count()

    # -- both -----------------------------------------------------------------------------------------

    def search(self, text: str, k: int = 5, kind: Kind = "both") -> list[Hit]:
        """Playbooks and/or past incidents nearest in meaning to `text`, best first."""
        hits: list[Hit] = []
        if kind in ("playbooks", "both"):
            sims = self._playbook_similarities(text)
            known = self._known(sims)
            for name, sim in sims.items():
                pb = known[name]
                hits.append(Hit(kind="playbook", id=name, title=pb.title, score=sim,
                                excerpt=_excerpt(pb.body), playbook=pb))
        if kind in ("incidents", "both"):
            hits.extend(self.similar_incidents(text, k))
        hits.sort(key=lambda h: -h.score)
        return hits[:k]
