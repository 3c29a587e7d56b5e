"""The knowledge settings section: where Chroma keeps its files (or which Chroma server), the playbooks, and the
bars for learning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policies.schema import Duration


class ChromaAddress(NamedTuple):
    host: str
    port: int
    ssl: bool


def chroma_address(url: str) -> ChromaAddress:
    """'https://chroma.example' → ('chroma.example', 443, True); 'http://chroma:8000' → ('chroma', 8000, False)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{url!r} is no Chroma server URL; write http(s)://host[:port], without a path")
    ssl = parts.scheme == "https"
    return ChromaAddress(parts.hostname, parts.port or (443 if ssl else 8000), ssl)


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(Path(".opsbot/knowledge"),
        description="Chroma's persistent directory (one process only); with chroma_url set, only the embedding "
                    "model's files (path/model)")
    chroma_url: str | None = Field(None,
        description="a Chroma server (http://host:8000) that every opsbot process shares through chromadb.HttpClient "
                    "instead of the persistent directory `path`: needed when several processes run (serve, "
                    "serve-slack, serve-telegram, replicas)")
    playbooks_dir: Path = Field(Path(__file__).parent / "playbooks",
                                description="the playbooks (*.md) ingested when the store is empty")
    recommend_min_outcomes: int = Field(5,
        description="recorded outcomes of an action before its success rate may reorder a playbook's remediation")
    recommend_min_success: float = Field(0.6,
        description="success rate below which a remediation is no longer recommended first")
    promote_success: float = Field(0.8, description="success rate from which a remediation is recommended first")
    wrong_cause_hold: Duration = Field(timedelta(days=14),
        description="how long a 'wrong cause' mark holds the incident's actions back from being recommended or "
                    "promoted for its failure mode (e.g. 14d, 72h); a fix by the same action for the same failure "
                    "mode verified after the mark lifts it sooner")

    @field_validator("chroma_url")
    @classmethod
    def _a_server_url(cls, url: str | None) -> str | None:
        if url is not None:
            chroma_address(url)
        return url
