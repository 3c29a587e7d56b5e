"""Network and DNS: an expired certificate in the logs; DNS or egress failing where a NetworkPolicy denies it."""

from __future__ import annotations

import re

from bot.triage.results import CERTIFICATE, NETWORK_FAILURE, described
from bot.triage.rules.base import Diagnosis, Reader


def certificate(r: Reader) -> Diagnosis | None:
    cert = [x for x in r.logs if CERTIFICATE.search(x)]
    if not cert:
        return None
    secrets = [f"{p['namespace']}/{ref['name']}" for p in r.dependency for ref in p.get("config_refs", [])
               if ref.get("kind") == "Secret" and re.search(r"(?i)tls|cert", ref.get("name", ""))]
    where = f"Secret {secrets[0]}" if secrets else "the Secret or file that holds it"
    return r.make("certificate-expired", r.about(), cert[0], [*cert[1:3], *r.dependency_lines(),
                  *(f"serves {s}" for s in secrets[:1])], f"renew the expired certificate in {where} and restart "
                  "what reads it at start-up; no restart, rollback or scale-up of this service fixes it", False, "logs")


def network_policy(r: Reader) -> Diagnosis | None:
    net = [x for x in r.logs if NETWORK_FAILURE.search(x)]
    policies = [p for p in described(r.results, "NetworkPolicy") if "NOT allowed" in p.get("verdict", "")
                or "denies all egress" in p.get("verdict", "")]
    if not (net and policies):
        return None
    p = policies[0]
    return r.make("networkpolicy-blocked", f"NetworkPolicy {p['namespace']}/{p['name']}",
                  p["verdict"], net[:3], f"allow egress to kube-dns (UDP and TCP 53) and the service's "
                  f"dependencies in NetworkPolicy {p['name']}", False)
