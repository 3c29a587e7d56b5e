"""The webhooks' masking gate (bot.redact_json) never clears a body the full walk would change: every secret
shape of the corpus and of the masking tests, planted wherever a webhook body can hold it (a label, an
annotation, a key, an argv list, a Secret object), in every JSON spelling of it (escaped letters, escaped
slashes, non-ASCII escapes), is sent the careful way; an ordinary Alertmanager group as Alertmanager writes it
(Go escapes & < > as \\u0026…) is stored as sent."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.secrets_corpus import CORPUS, NEAR_MISSES, PEM_LINES
from bot.intake.delivery import masked
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.redact import redact_data
from bot.redact_json import may_mask
from tests.test_redact import MASKED

PLAIN = ("groupKey",)
TEXTS = [line for _, line, _ in CORPUS] + [text for text, _ in MASKED] + NEAR_MISSES + PEM_LINES
SECRET_KEYS = ["password", "DB_PASSWORD", "x-api-key", "Authorization", "set-cookie", "client_secret", "apikey",
               "aws_secret_access_key", "session_token", "private_key", "github_token", "credentials"]


def group(labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None, **extra: object) -> dict:
    alert = am_alert({"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f-x2x",
                      "severity": "warning", **(labels or {})},
                     {"description": "Pod shop/checkout-7d9f-x2x (app) is in waiting state (reason: "
                                     '"CrashLoopBackOff").', **(annotations or {})})
    return {**am_payload([alert]), **extra}


def spellings(data: dict) -> list[str]:
    """The same JSON written the ways senders write it: compact, ASCII-escaped, Go's HTML escapes, slashes
    escaped, and every letter p escaped (a gate on the raw text alone would miss `\\u0070assword`)."""
    plain = json.dumps(data, ensure_ascii=False)
    ascii_ = json.dumps(data)
    go = ascii_.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    slashes = re.sub(r'(?<!\\)/', r"\\/", ascii_)
    letters = re.sub(r'(?<=[^\\])p', r"\\u0070", ascii_)
    return [plain, ascii_, go, slashes, letters]


def plantings(text: str) -> list[dict]:
    return [group(annotations={"description": text}), group(labels={"container": text}),
            group(annotations={"summary": f"checkout: {text} (see runbook)"}),
            group(extra={"command": ["sh", "-c", text]}), group(source={"lines": text.split("\n")})]


def cleared_wrongly(text: str) -> bool:
    """The gate let the text through as it is, yet the walk over its data changes something."""
    data = json.loads(text)
    return not may_mask(text, PLAIN) and redact_data(data) != data


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_no_secret_shape_is_cleared_wherever_and_however_it_is_written(text: str) -> None:
    wrong = [s for data in plantings(text) for s in spellings(data) if cleared_wrongly(s)]
    assert not wrong, wrong[0]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_a_value_under_a_secret_named_key_is_never_cleared(key: str) -> None:
    for data in (group(labels={key: "plainword"}), group(extra={key: "plainword"}),
                 group(annotations={key: "x"}), group(headers=[{key: "abc"}])):
        for s in spellings(data):
            assert may_mask(s, PLAIN), s


def test_argv_lists_and_secret_objects_are_never_cleared() -> None:
    for extra in ({"args": ["redis-cli", "-a", "plainword"]}, {"args": ["mysql", "-pplainword"]},
                  {"object": {"kind": "Secret", "data": {"a": "eA=="}}}):
        for s in spellings(group(**extra)):
            assert may_mask(s, PLAIN) and not cleared_wrongly(s), s


def test_a_plain_key_hides_no_value_that_spells_it() -> None:
    """Only the key `"groupKey":` is passed over: the same words inside a value still count."""
    data = group(annotations={"description": 'payload {"groupKey": "a8Xk3pQ9zL2mN7vB4cR1tY6w"}'})
    for s in spellings(data):
        assert not cleared_wrongly(s) and may_mask(s, PLAIN)


def test_an_ordinary_alertmanager_group_is_stored_as_sent() -> None:
    alerts = [am_alert({"alertname": "KubeDeploymentReplicasMismatch", "namespace": "shop", "severity": "warning",
                        "deployment": f"svc-{i}", "job": "kube-state-metrics"},
                       {"description": f"Deployment shop/svc-{i} has not matched the expected number of replicas "
                                       "for longer than 15 minutes.",
                        "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"
                                       "kubedeploymentreplicasmismatch",
                        "summary": "Deployment has not matched the expected number of replicas."},
                       generator_url="http://prometheus:9090/graph?g0.expr=kube_deployment_spec_replicas%20%3E%200"
                                     "&g0.tab=1")
              for i in range(20)]
    for s in spellings(am_payload(alerts))[:3]:
        body = s.encode()
        stored, data = masked(body, json.loads(s), PLAIN)
        assert stored is body and not may_mask(s, PLAIN)


_FRAGMENTS = st.sampled_from([t[:40] for t in TEXTS] + ["p", "-", "\\", "/", '"', "é", "\n", "key", "=", ": "])


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.lists(_FRAGMENTS, max_size=4).map("".join),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.lists(_FRAGMENTS, max_size=2).map("".join), inner, max_size=4), max_leaves=20))
def test_any_json_of_secret_fragments_is_cleared_only_when_the_walk_agrees(value: object) -> None:
    for s in spellings({"v": value}):
        assert not cleared_wrongly(s), s
