"""The embedding model is loaded once per process from the first knowledge folder: a later store keeps
embedding after that folder is gone (an `opsbot eval` run's temporary knowledge, then another store)."""

from __future__ import annotations

import shutil
from pathlib import Path

from knowledge.embedding import OfflineMiniLM


def test_a_loaded_model_embeds_after_its_first_folder_is_removed(tmp_path: Path) -> None:
    first = tmp_path / "first-store" / "model"
    ef = OfflineMiniLM(first)
    before = ef(["checkout pods crash-loop after the release"])
    ef.tokenizer, ef.model  # noqa: B018 - loaded, as offline_embedding leaves it
    shutil.rmtree(tmp_path / "first-store")
    after = ef(["checkout pods crash-loop after the release"])
    assert len(after[0]) == 384
    assert abs(float(sum(a * b for a, b in zip(before[0], after[0], strict=True))) - 1.0) < 1e-4
