"""The knowledge settings section: where Chroma keeps its files, the playbooks, and the bars for learning."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(Path(".opsbot/knowledge"), description="Chroma's persistent directory")
    playbooks_dir: Path = Field(Path(__file__).parent / "playbooks", description="the playbooks (*.md) ingested when the store is empty")
    recommend_min_outcomes: int = 5
    recommend_min_success: float = 0.6
    promote_success: float = 0.8
