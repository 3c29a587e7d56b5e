"""The network plugin: the alert's pods stay in ContainerCreating because the kubelet cannot create their
sandbox, and the plugin says it has no address to give (an exhausted subnet or IP pool); followed to the
plugin's own pods (bot/triage/follow/cni.py), whose lines say so from their side."""

from __future__ import annotations

import re
from typing import Any

from bot.triage.follow.cni import PLUGIN, SANDBOX, plugins, stuck, words
from bot.triage.quotes import events, pod_logs
from bot.triage.results import described, ok
from bot.triage.rules.base import Diagnosis, Reader

# what aws-vpc-cni, Calico IPAM and Cilium say when no address is left to assign
EXHAUSTED = re.compile(r"(?i)(failed to assign an IP address|unable to allocate IP|range is full|"
                       r"pools are likely exhausted|no (more )?(free )?(IPv[46] |IP )?addresses (available|left)|"
                       r"per host block limit|InsufficientFreeAddressesInSubnet|no available IP|"
                       r"IP address(es)? (are )?exhausted|out of IP addresses)")

# where each common plugin takes more addresses (its documented setting), said after the generic advice
KNOBS = {"aws": ", prefix delegation (ENABLE_PREFIX_DELEGATION=true on aws-node)",
         "cilium": ", a larger per-node pod CIDR (clusterPoolIPv4MaskSize) or more cluster-pool CIDRs",
         "calico": ", another or larger IPPool (or a smaller blockSize)"}


def like(r: Reader, pod: dict[str, Any]) -> int:
    """How many pods of the listing that shows this one are in its state (the others wait the same way)."""
    rows = next((d.get("pods", []) for d in ok(r.results, "k8s_list")
                 if any(x.get("name") == pod["name"] for x in d.get("pods", []))), [])
    return max(1, sum(1 for x in rows if x.get("status") == pod.get("status")))


def cni(r: Reader) -> Diagnosis | None:
    mine = {p["name"] for p in r.pods}
    for p, messages in [(p, m) for p, m in stuck(r.results) if p["name"] in mine]:
        names = plugins(messages)
        short = [m for m in messages if EXHAUSTED.search(m)]
        agents = [a for a in described(r.results, "Pod") if any(
            words(str(link).split("/", 1)[-1]) & names for link in a.get("controlled_by") or []
            if str(link).startswith("DaemonSet/"))]
        said = [(a, x) for a in agents for c in a.get("containers", [])
                for x in pod_logs(r.results, a["name"], c["name"]) if EXHAUSTED.search(x)]
        if not (short or said):
            continue  # the sandbox fails for another reason: not this rule
        named = next(iter(PLUGIN.findall(" ".join(messages))), None)
        plugin = f"network plugin {named}" if named else "the network plugin (the event names none)"
        waiting = like(r, p)
        where = f"{waiting} pods of {r.about()} stay" if waiting > 1 else f"Pod {p['namespace']}/{p['name']} stays"
        here = [a for a in agents if a.get("node") == p.get("node")] or agents
        a, line = said[0] if said else (here[0] if here else None, short[0])
        who = f"Pod {a['namespace']}/{a['name']} ({plugin} on node {a.get('node')})" if a else \
            f"{plugin} on node {p.get('node')}"
        about = f"{who}: no pod IP address left to assign, so {where} in ContainerCreating"
        knob = next((k for w, k in KNOBS.items() if named and w in words(named)), "")
        return r.make("cni-ip-exhaustion", about, line, [*short[:1], *events(p, SANDBOX)[:1],
                      *(f"{a['name']}: {x}" for a, x in said[1:3])],
                      f"give {named or 'the network plugin'} more addresses: a larger subnet or IP pool{knob}, or "
                      "fewer pods per node; free addresses held by finished pods. Restarting, rolling back or "
                      "scaling this workload does not help", False, "logs" if said else "state")
    return None

