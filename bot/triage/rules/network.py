"""Network and DNS: an expired certificate in the logs; DNS or egress failing where a NetworkPolicy denies it;
lookups failing because the cluster DNS's own pods fail (a CoreDNS loop, a Corefile it cannot parse…)."""

from __future__ import annotations

import re

from bot.triage.quotes import state_of, state_text
from bot.triage.results import CERTIFICATE, DNS_FAILURE, NETWORK_FAILURE, described, endpoint_pods
from bot.triage.rules.base import Diagnosis, Reader
from bot.triage.rules.dependencies import behind, callers, decisive, is_dns, sick

LOOP = re.compile(r"plugin/loop: .*(Loop .* detected|loop detected)")  # CoreDNS's loop plugin, which then exits
COREFILE = re.compile(r"(?i)(Corefile:\d+ - Error during parsing|Error during parsing)")  # CoreDNS's Caddy parser


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


def cluster_dns(r: Reader) -> Diagnosis | None:
    """Lookups fail and a pod behind the cluster DNS Service (followed there, bot/triage/follow/network.py) is
    failing: that pod, its own line and what it does to every lookup. The DNS pods healthy: not this rule."""
    lookups = [x for x in callers(r) if DNS_FAILURE.search(x)]
    for svc in [s for s in described(r.results, "Service") if is_dns(s)] if lookups else []:
        failing = sick(behind(r, svc))
        if not failing:
            continue
        p, c = failing[0]
        owner = next((x for x in reversed(p.get("controlled_by") or []) if not x.startswith("ReplicaSet/")), None)
        line = decisive(r, p, c)
        ready, not_ready = endpoint_pods(svc)
        about = (f"Pod {p['namespace']}/{p['name']} ({state_of(c).get('reason') or 'not ready'})"
                 + (f" of {owner.replace('/', ' ' + p['namespace'] + '/', 1)}" if owner else "")
                 + f", the cluster DNS behind Service {svc['namespace']}/{svc['name']} ({len(ready)} of "
                 f"{len(ready) + len(not_ready)} endpoints ready): callers' lookups fail")
        config = next((f"ConfigMap {p['namespace']}/{x['name']}" for x in p.get("config_refs", [])
                       if x.get("kind") == "ConfigMap"), "its ConfigMap")
        if line and LOOP.search(line):
            advice = (f"break the forwarding loop: CoreDNS forwards to a resolver on the node that sends the query "
                      f"back (e.g. 127.0.0.53 in the node's resolv.conf); point `forward` in {config} at real "
                      "upstream resolvers, or the kubelet's resolvConf at the real file")
        elif line and COREFILE.search(line):
            advice = f"fix the Corefile in {config} at the line its error names; CoreDNS starts once it parses"
        else:
            advice = f"fix what the DNS pod's own line above names ({config}, its resources, its node)"
        return r.make("cluster-dns-failure", about, line or state_text(c),
                      [f"{p['name']} {c['name']}: {state_text(c)}", *lookups[:3]],
                      f"{advice}; restarting, rolling back or scaling the callers does not help", False,
                      "logs" if line else "state")
    return None
