"""Which change a person's words ask for: a table of questions, calls and whether the person asked for them."""

from __future__ import annotations

import pytest

from bot.chat.asked import about_change, asked_for

CHECKOUT = {"namespace": "shop", "deployment": "checkout"}


@pytest.mark.parametrize(("question", "last_answer", "tool", "args", "asked"), [
    ("restart checkout", "", "k8s_rollout_restart", CHECKOUT, True),
    ("please roll back checkout in shop", "", "k8s_rollback", CHECKOUT, True),
    ("scale checkout to 6", "", "k8s_scale", {**CHECKOUT, "replicas": 6}, True),
    ("delete checkout's crashing pod", "", "k8s_delete_pod", {"namespace": "shop", "pod": "checkout-7d9f-abcde"}, True),
    ("restart it", "", "k8s_rollout_restart", CHECKOUT, False),  # no object named, none in the evidence
    ("restart checkout", "", "k8s_rollout_restart", {"namespace": "shop", "deployment": "payments-api"}, False),
    ("should I scale checkout?", "", "k8s_rollback", CHECKOUT, False),  # another change than the one asked
    ("why is checkout failing?", "", "k8s_delete_pod", {"namespace": "shop", "pod": "checkout-7d9f-abcde"}, False),
    ("go ahead", "A rollback of checkout to revision 3 would fix it.", "k8s_rollback", CHECKOUT, True),
    ("go ahead", "A rollback of checkout to revision 3 would fix it.", "k8s_delete_pod",
     {"namespace": "shop", "pod": "checkout-7d9f-abcde"}, False),
    ("restart checkout", "", "page_oncall", {}, False),  # a tool without words people use for it: never asked
])
def test_asked_for(question: str, last_answer: str, tool: str, args: dict, asked: bool) -> None:
    assert asked_for(tool, args, question, last_answer) is asked


def test_the_subject_of_the_evidence_names_the_object() -> None:
    assert asked_for("k8s_rollout_restart", CHECKOUT, "restart it", about="Deployment shop/checkout")


@pytest.mark.parametrize(("text", "about"), [("why is checkout failing?", False), ("restart checkout", True),
                                             ("go ahead", True), ("how many replicas?", True)])
def test_about_change(text: str, about: bool) -> None:
    assert about_change(text) is about
