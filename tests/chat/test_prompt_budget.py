"""The first model call of an investigation stays within its token budget, with every tool offered."""

from __future__ import annotations

from bench.o200k import encoding
from bench.prompt_tokens import BUDGET, count
from tools.catalog import all_tools


def test_the_first_model_call_fits_the_budget() -> None:
    c = count()
    assert set(c.per_tool) == {t.name for t in all_tools()}
    assert c.total <= BUDGET, f"system {c.system} + user {c.user} + tools {c.tools} = {c.total} > {BUDGET}"


def test_the_offline_encoding_is_tiktokens_o200k_base() -> None:
    enc = encoding()
    assert enc.name == "o200k_base"
    assert enc.encode("hello world") == [24912, 2375]
