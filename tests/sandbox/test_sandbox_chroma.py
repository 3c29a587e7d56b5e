"""A sandbox asked for a Chroma server points opsbot's knowledge at it; the default keeps the directory."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.settings import load_settings
from knowledge.settings import KnowledgeSettings
from sandbox.manager import Ports, Sandbox


def _loaded(tmp_path: Path, sandbox: Sandbox, ports: Ports) -> KnowledgeSettings:
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(sandbox._settings(ports)))
    return load_settings(path).knowledge


def test_only_a_sandbox_with_chroma_sets_knowledge_chroma_url(tmp_path: Path) -> None:
    shared = Ports.fresh(chroma=True)
    assert _loaded(tmp_path, Sandbox(tmp_path, chroma=True), shared).chroma_url == f"http://127.0.0.1:{shared.chroma}"
    default = _loaded(tmp_path, Sandbox(tmp_path), Ports.fresh())
    assert default.chroma_url is None and default.path == tmp_path.resolve() / "knowledge"
