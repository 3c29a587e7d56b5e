"""Secrets in every form are masked; ordinary operations text is left exactly as it was."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from bot.logging import configure
from bot.redact import redact, redact_data

MASKED = [
    ("slack bot token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack bot token [REDACTED]"),
    ("app token xapp-1-A0123456789-1234567890123-abcdef0123456789", "app token [REDACTED]"),
    ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED]"),
    ("key sk-proj-abcdefghijklmnopqrstuvwxyz012345 used", "key [REDACTED] used"),
    ("aws AKIAIOSFODNN7EXAMPLE key", "aws [REDACTED] key"),
    ("DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED]"),
    ("export GITHUB_TOKEN=abc123", "export GITHUB_TOKEN=[REDACTED]"),
    ('password: "s3cr3t pass"', 'password: "[REDACTED]"'),
    ("db:\n  password: hunter2\n  user: app", "db:\n  password: [REDACTED]\n  user: app"),
    ('{"password": "hunter2", "user": "bob"}', '{"password": "[REDACTED]", "user": "bob"}'),
    ("client_secret: abcd1234", "client_secret: [REDACTED]"),
    ("X-Api-Key: 12ab34cd", "X-Api-Key: [REDACTED]"),
    ("Authorization: Bearer abc.def.ghi123456", "Authorization: Bearer [REDACTED]"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED]"),
    ("curl -H 'Authorization: token ghs_abcdef' x", "curl -H 'Authorization: token [REDACTED]' x"),
    ("sent bearer eyAbCdEf0123456789xyz", "sent bearer [REDACTED]"),
    ("postgres://checkout:SuperSecret1@db.shop:5432/checkout", "postgres://checkout:[REDACTED]@db.shop:5432/checkout"),
    ("amqp://guest:guest@rabbit:5672/", "amqp://guest:[REDACTED]@rabbit:5672/"),
    ("redis://:p4ss@cache:6379/0", "redis://:[REDACTED]@cache:6379/0"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "jwt [REDACTED jwt]"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc==\n-----END RSA PRIVATE KEY-----\nnext",
     "[REDACTED private key]\nnext"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut)", "[REDACTED private key]"),
    ("api_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "api_key=[REDACTED]"),
    ("signature=9f8e7d6c5b4a39281706f5e4d3c2b1aZ", "signature=[REDACTED]"),
    ("GET /cb?token=abc123&page=2", "GET /cb?token=[REDACTED]&page=2"),
    ("psql --password hunter2", "psql --password [REDACTED]"),
    ("GET https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/getMe",
     "GET https://api.telegram.org/bot[REDACTED]/getMe"),
    ("sendgrid SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", "sendgrid [REDACTED]"),
    ("twilio SK0123456789abcdef0123456789abcdef", "twilio [REDACTED]"),
    ("discord MTA0NTY3ODkwMTIzNDU2Nzg5MA.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789", "discord [REDACTED]"),
    ("mailchimp 0123456789abcdef0123456789abcdef-us12", "mailchimp [REDACTED]"),
    ("pypi-AgEIcHlwaS5vcmcCJDAxMjM0NTY3LTg5YWItY2RlZi0wMTIzLTQ1Njc4OWFiY2RlZgACKlsz", "[REDACTED]"),
    ("shpat_0123456789abcdef0123456789abcdef", "[REDACTED]"),
    ("hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "[REDACTED]"),
    ("DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=" + "A" * 86 + "==;EndpointSuffix=x",
     "DefaultEndpointsProtocol=https;AccountName=shop;[REDACTED];EndpointSuffix=x"),
    ("DD_API_KEY=0123456789abcdef0123456789abcdef", "DD_API_KEY=[REDACTED]"),
    # the shapes of issue 23: each one reached every surface before
    ("aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws secret [REDACTED]"),
    ("runner glrt-AbCdEfGhIjKlMnOpQrSt12 registered", "runner [REDACTED] registered"),
    ("deploy token gldt-AbCdEfGhIjKlMnOpQrSt12", "deploy token [REDACTED]"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGVhY2sBCAD\n-----END PGP PRIVATE KEY BLOCK-----\nok",
     "[REDACTED private key]\nok"),
    ("signing with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "signing with [REDACTED]"),
    ("dsn https://9f8e7d6c5b4a39281706f5e4d3c2b1a0@o123.ingest.sentry.io/456",
     "dsn https://[REDACTED]@o123.ingest.sentry.io/456"),
    ("mysql -uroot -pS3cret shop", "mysql -uroot -p[REDACTED] shop"),
    ("mysqldump -p'x y' shop", "mysqldump -p[REDACTED] shop"),
    ('{"data":{"DATABASE_URL":"cG9zdGdyZXM6Ly9h"},"kind":"Secret"}',
     '{"data":{"DATABASE_URL":"[REDACTED]"},"kind":"Secret"}'),
    ("kind: Secret\ndata:\n  DATABASE_URL: cG9zdGdyZXM6Ly9h\ntype: Opaque",
     "kind: Secret\ndata:\n  DATABASE_URL: [REDACTED]\ntype: Opaque"),
    ("Authorization: GenieKey 3f2a1b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b", "Authorization: GenieKey [REDACTED]"),
]

UNTOUCHED = [
    "checkout is in CrashLoopBackOff: required environment variable DATABASE_URL is not set",
    "postgres://checkout@db.shop:5432/checkout",
    "rate(http_requests_total{service=\"checkout\"}[5m])",
    "max_tokens: 1200",
    "token_count=5",
    "secretName: db-credentials-ref",
    "key=checkout",
    "session=3",
    "password: null",
    "author=bob",
    "image sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "scale shop/checkout from 3 to 6 replicas (pending approval #a1b2c3)",
    "pod checkout-7d9f8b6c5-x2x9z restarted 9 times, exit code 1",
    "https://grafana.example.com/d/abc?orgId=1&from=now-1h",
    # issue 23: a registry error's "server message:" came out as "[REDACTED] message:"
    "pull access denied, repository does not exist or may require authorization: server message: "
    "insufficient_scope: authorization failed",
    "failed to fetch anonymous token: server message: unauthorized",
    "HTTP basic authentication failed",
    "deployed commit 4f9c2a1b3c4d5e6f708192a3b4c5d6e7f8019283 to aws eu-west-1",
    "git clone ssh://git@github.com/shop/app.git",
    "mysql -u root -p shop",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_secrets_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_structures_mask_secret_keys_and_secret_strings() -> None:
    data = {"env": {"DB_PASSWORD": "hunter2", "LOG_LEVEL": "info"}, "Authorization": "Bearer x",
            "lines": ["ok", "token=abc"], "replicas": 3, "api_key": None}
    assert redact_data(data) == {"env": {"DB_PASSWORD": "[REDACTED]", "LOG_LEVEL": "info"},
                                 "Authorization": "[REDACTED]", "lines": ["ok", "token=[REDACTED]"],
                                 "replicas": 3, "api_key": None}


def test_a_kubernetes_secret_object_loses_every_value_whatever_its_keys() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "checkout-db"}, "type": "Opaque",
              "data": {"DATABASE_URL": "cG9zdGdyZXM6Ly9hcHA6cHdAZGIvc2hvcA==", "user": "YXBw"},
              "stringData": {"API_URL": "https://svc:pw@api"}}
    out = redact_data(secret)
    assert out["data"] == {"DATABASE_URL": "[REDACTED]", "user": "[REDACTED]"}
    assert out["stringData"] == {"API_URL": "[REDACTED]"} and out["metadata"] == {"name": "checkout-db"}


@pytest.mark.parametrize(("begin", "end"), [
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "-----END PGP PRIVATE KEY BLOCK-----"),
    ("-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----END ENCRYPTED PRIVATE KEY-----"),
    ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", "---- END SSH2 ENCRYPTED PRIVATE KEY ----"),
    ("Private-Lines: 2", "Private-MAC: 8a7b6c5d4e3f2a1b"),
])
def test_armored_keys_of_any_kind_split_over_log_lines_are_masked_whole(begin: str, end: str) -> None:
    out = redact_data(["starting", begin, "q8b2ZxZ0a1b2c3d4e5", "MIIEowIBAAKCAQEAx4Lx", end, "listening on :8080"])
    assert out[0] == "starting" and out[-1] == "listening on :8080"
    assert not any("MIIE" in x or "q8b2" in x for x in out)


@pytest.mark.parametrize(("argv", "expected"), [
    (["mysql", "-uroot", "-pS3cret", "-h", "db"], ["mysql", "-uroot", "-p[REDACTED]", "-h", "db"]),
    (["/app/server", "--db-password", "hunter2", "--port", "8080"],
     ["/app/server", "--db-password", "[REDACTED]", "--port", "8080"]),
    (["redis-cli", "-h", "cache", "-p", "6379", "-a", "pw123456"],
     ["redis-cli", "-h", "cache", "-p", "6379", "-a", "[REDACTED]"]),
    (["/app/server", "--password", "$(DB_PASSWORD)"], ["/app/server", "--password", "$(DB_PASSWORD)"]),
    (["/usr/bin/mysqldump", "-p", "shop"], ["/usr/bin/mysqldump", "-p", "shop"]),
])
def test_a_command_written_as_a_list_loses_its_passwords(argv: list[str], expected: list[str]) -> None:
    """A container's command and args, as describe shows them: the flag and its value are separate items."""
    assert redact_data(argv) == expected


def test_a_command_line_form_does_not_reach_into_the_next_line_of_a_json_result() -> None:
    """The door redacts a result's JSON: mongosh's -p must not find psql's port in the next string."""
    text = json.dumps(["mongosh --host mongo-0 --username app", "psql -h db -U app -d shop -p 5432"])
    assert redact(text) == text


def test_a_private_key_split_over_log_lines_is_masked_whole() -> None:
    lines = ["starting", "loaded -----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAx4Lx", "q8b2ZxZ0a1b2c3d4e5",
             "-----END RSA PRIVATE KEY-----", "listening on :8080"]
    out = redact_data(lines)
    assert out[0] == "starting" and out[-1] == "listening on :8080"
    assert not any("MIIE" in x or "q8b2" in x for x in out)


def test_log_lines_are_redacted() -> None:
    out = io.StringIO()
    configure(json=True, stream=out)
    try:
        structlog.get_logger("t").warning("model_failed", error="401 for Authorization: Bearer sk-abcdefghijklmnopqrstu",
                                          password="hunter2", url="postgres://u:pw@db/x")
    finally:
        structlog.reset_defaults()
    line = json.loads(out.getvalue())
    assert line["error"] == "401 for Authorization: Bearer [REDACTED]"
    assert line["password"] == "[REDACTED]" and line["url"] == "postgres://u:[REDACTED]@db/x"
