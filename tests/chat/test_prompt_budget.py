"""The first model call of a question stays within its token budget, with the tools that question is offered."""

from __future__ import annotations

from bench.o200k import encoding
from bench.prompt_tokens import BUDGET, QUESTIONS, count
from bot.chat.agent import NOT_FOR_CHANGES, QUESTION_TOOLS


def test_the_first_model_call_fits_the_budget() -> None:
    for question in QUESTIONS:
        c = count(question)
        total = c["system"] + c["user"] + c["tools"]
        assert total <= BUDGET, f"{question}: system {c['system']} + user {c['user']} + tools {c['tools']} > {BUDGET}"


def test_a_question_that_asks_for_no_change_is_offered_only_reads() -> None:
    assert count("why is checkout failing?")["offered"] == len(QUESTION_TOOLS)
    assert count("restart the cart deployment in shop")["offered"] == len(QUESTION_TOOLS) - len(NOT_FOR_CHANGES) + 4


def test_the_offline_encoding_is_tiktokens_o200k_base() -> None:
    enc = encoding()
    assert enc.name == "o200k_base"
    assert enc.encode("hello world") == [24912, 2375]
