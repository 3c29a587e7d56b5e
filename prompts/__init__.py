"""Prompt templates, versioned as files beside this module: `load("system")` reads prompts/system.md."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent


@cache
def load(name: str) -> str:
    """The prompt file's text, stripped; a missing prompt is a packaging mistake and fails loudly."""
    path = PROMPT_DIR / f"{name}.md"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in PROMPT_DIR.glob("*.md")))
        raise FileNotFoundError(f"no prompt {name!r} in {PROMPT_DIR}; shipped: {shipped}")
    return path.read_text(encoding="utf-8").strip()
