"""The knowledge settings section: where Chroma keeps its files, the playbooks, and the bars for learning."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class KnowledgeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(Path(".opsbot/knowledge"), description="Chroma's persistent directory")
    playbooks_dir: Path = Field(Path(__file__).parent / "playbooks",
                                description="the playbooks (*.md) ingested when the store is empty")
    recommend_min_outcomes: int = Field(5,
        description="recorded outcomes of an action before its success rate may reorder a playbook's remediation")
    recommend_min_success: float = Field(0.6,
        description="success rate below which a remediation is no longer recommended first")
    promote_success: float = Field(0.8, description="success rate from which a remediation is recommended first")
