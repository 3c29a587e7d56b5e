"""What triage has read so far, as the rules and the reads ask about it: the successful answers of a tool, the
objects described of a kind, every log line, whether a container is failing; the patterns of failing calls."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tools.base import Status, ToolResult

Check = tuple[str, dict[str, Any]]
LOG_TAIL = 40
CERTIFICATE = re.compile(r"(?i)(certificate has expired|certificate expired|x509: certificate|"
                         r"certificate verify failed|ssl.*expired)")
DEPENDENCY = re.compile(r"(?i)(connection refused|connect: connection|no response|not responding|timed out|"
                        r"ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|no healthy upstream|upstream connect error|"
                        r"timeout expired|i/o timeout|"
                        r"deadline exceeded|statement timeout|could not connect|unreachable|no route to host|"
                        r"all host\(s\) tried|connection reset|too many connections|unavailable)")
# a Service's DNS name (name.namespace[.svc…]) or an address:port in a failing call: the dependency to read;
# only names of Services that exist are read, so a word that looks like one costs nothing
SERVICE_HOST = re.compile(r"\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\b")
ADDRESS = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}):(?!53\b)\d{2,5}\b")  # not the DNS server
# a name lookup failing as resolvers word it (Go, glibc, Node.js, the JVM): the cluster DNS is worth reading
DNS_FAILURE = re.compile(r"(?i)(no such host|name resolution|could not resolve|lookup \S+ on \S+:53|:53: i/o timeout|"
                         r"EAI_AGAIN|server misbehaving|Name or service not known|UnknownHostException)")
# a pod's own logs saying it cannot reach a name or an address: the network path is worth reading
NETWORK_FAILURE = re.compile(rf"(?i)({DNS_FAILURE.pattern.removeprefix('(?i)')}|"
                             r"dial (tcp|udp) \S+: (i/o timeout|connect: connection refused)|"
                             r"connection timed out|network is unreachable)")


def ok(results: list[ToolResult], tool: str) -> Iterator[dict[str, Any]]:
    for r in results:
        if r.tool == tool and r.status == Status.success and isinstance(r.data, dict):
            yield r.data


def described(results: list[ToolResult], kind: str) -> list[dict[str, Any]]:
    return [d for d in ok(results, "k8s_describe") if d.get("kind") == kind]


def log_lines(results: list[ToolResult]) -> list[str]:
    """Every log line read: pods' own logs and the search's grouped messages."""
    lines = [str(x) for d in ok(results, "k8s_pod_logs") for x in d.get("lines", [])]
    return lines + [str(m.get("message")) for d in ok(results, "logs_search") for m in d.get("by_message", [])]


def failing_container(c: dict[str, Any]) -> bool:
    """Not running and ready (an init container that completed is done), or killed at its memory limit and up
    again for now."""
    state, last = c.get("state") or {}, c.get("last_state") or {}
    if c.get("init") and state.get("reason") == "Completed":
        return False
    return not c.get("ready") or last.get("reason") == "OOMKilled"


def describe_pod(ns: str, name: str) -> Check:
    return "k8s_describe", {"kind": "Pod", "namespace": ns, "name": name}


def namespaces(results: list[ToolResult]) -> list[str]:
    found = [d.get("namespace") for tool in ("k8s_describe", "k8s_list", "k8s_events") for d in ok(results, tool)]
    return list(dict.fromkeys(ns for ns in found if ns))


def endpoint_pods(d: dict[str, Any]) -> tuple[list[str], list[str]]:
    e = d.get("endpoints") or {}
    return ([x.split(" ")[0] for x in e.get("ready", [])], [x.split(" ")[0] for x in e.get("not_ready", [])])


def pods_behind(d: dict[str, Any]) -> list[Check]:
    """A described Service's pod that is not ready (or, all ready, one of them): its description and logs."""
    ready, not_ready = endpoint_pods(d)
    return [c for pod in (not_ready or ready)[:1] for c in (
        describe_pod(d["namespace"], pod), ("k8s_pod_logs", {"namespace": d["namespace"], "pod": pod,
                                                             "tail_lines": LOG_TAIL}))]


def dependency_pods(results: list[ToolResult]) -> set[str]:
    """The pods behind the Services a failing call named: someone else's, not the alert's."""
    return {pod for d in described(results, "Service") for pods in endpoint_pods(d) for pod in pods}


def change_rows(results: list[ToolResult]) -> list[dict[str, Any]]:
    """Every change `k8s_changes` read (rollouts, scales, Jobs, ConfigMaps and Secrets, nodes), oldest first."""
    return [c for d in ok(results, "k8s_changes") for c in d.get("changes", [])]
