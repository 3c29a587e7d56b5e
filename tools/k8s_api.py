"""Calling the Kubernetes API for the k8s tools: short timeouts, and errors split by who must act.

A wrong name the caller can fix becomes ToolInputError listing what exists; an unreachable or failing
API server becomes BackendError("kubernetes", url, what was asked, why). Names are checked as DNS
labels / subdomains before anything is sent, so shell metacharacters never reach a request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException
from pydantic import AfterValidator, Field

from tools import k8s_reads
from tools.base import BackendError, ToolInputError
from tools.context import ToolContext
from tools.k8s_kinds import API_CLASSES, KINDS, ApiGroup, plural

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_SELECTOR_TERM = re.compile(rf"^\s*(!?\s*{_KEY}|{_KEY}\s*(==|=|!=)\s*[A-Za-z0-9._-]*"
                            rf"|{_KEY}\s+(in|notin)\s*\(\s*[A-Za-z0-9._-]+(\s*,\s*[A-Za-z0-9._-]+)*\s*\))\s*$")


def _dns_label(value: str) -> str:
    if not _LABEL.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes name: use lowercase letters, digits and '-' (e.g. 'my-app')")
    return value


def _dns_subdomain(value: str) -> str:
    if not _SUBDOMAIN.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes name: use lowercase letters, digits, '-' and '.' "
                         "(e.g. 'checkout-7d9f5b6c4-x2x9q')")
    return value


def selector_terms(value: str) -> list[str]:
    """Comma-separated selector terms, commas inside a set's parentheses kept."""
    terms, depth, current = [], 0, ""
    for ch in value:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    return [*terms, current]


def _selector(value: str) -> str:
    if not all(_SELECTOR_TERM.match(term) for term in selector_terms(value)):
        raise ValueError(f"{value!r} is not a label selector; use e.g. 'app=checkout', 'tier!=canary', "
                         "'env in (prod,staging)', 'app', '!canary'")
    return value


Namespace = Annotated[str, Field(min_length=1, max_length=63,
                                 description="the namespace, exactly as the evidence or k8s_list names it"),
                      AfterValidator(_dns_label)]
PodName = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_dns_subdomain)]
ObjectName = Annotated[str, Field(min_length=1, max_length=253), AfterValidator(_dns_subdomain)]
ContainerName = Annotated[str, Field(min_length=1, max_length=63), AfterValidator(_dns_label)]
LabelSelector = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_selector)]


def url(ctx: ToolContext) -> str:
    try:
        return ctx.backends.kubernetes_url
    except ConfigException:
        return str(ctx.settings.kubernetes.kubeconfig or "in-cluster config")


def _client(ctx: ToolContext, api: ApiGroup) -> Any:
    if api == "core":
        return ctx.backends.core_v1
    if api == "apps":
        return ctx.backends.apps_v1
    return getattr(k8s_client, API_CLASSES[api])(ctx.backends.kubernetes)


def call(ctx: ToolContext, asked: str, api: ApiGroup, method: str, *args: Any,
         passthrough: tuple[int, ...] = (400, 404), **kwargs: Any) -> Any:
    """Call a client method with the configured timeout; statuses in `passthrough` re-raise as ApiException."""
    timeout = ctx.settings.kubernetes.timeout_s
    try:
        if k8s_reads.covers(api, method, kwargs):
            return k8s_reads.read(ctx.backends.kubernetes, method, *args, _request_timeout=timeout, **kwargs)
        return getattr(_client(ctx, api), method)(*args, _request_timeout=timeout, **kwargs)
    except ApiException as e:
        if e.status in passthrough:
            raise
        if e.status == 403:  # the API server answered: opsbot's ServiceAccount may not; not an outage
            raise ToolInputError(forbidden(asked, method)) from None
        raise BackendError("kubernetes", url(ctx), asked, _api_reason(e)) from None
    except urllib3.exceptions.HTTPError as e:
        raise BackendError("kubernetes", url(ctx), asked, _network_reason(e, timeout)) from None
    except ConfigException as e:
        raise BackendError("kubernetes", url(ctx), asked, f"the kubeconfig cannot be used: {e}") from None


NOT_READABLE = "not readable with opsbot's RBAC"
SECRETS_OPT_IN = ("opsbot reads no Secret by default; deploy/kubernetes/optional/secret-metadata.yaml lets it list "
                  "Secrets' names and keys in the namespaces you apply it to (docs/kubernetes.md)")


def forbidden(asked: str, method: str) -> str:
    """A 403 in words: what was asked, that opsbot's RBAC does not grant it, and where that is decided."""
    verb = NOT_READABLE if method.startswith(("read_", "list_")) else "not allowed by opsbot's RBAC"
    where = SECRETS_OPT_IN if "secret" in method else "its ClusterRole is deploy/kubernetes/base/rbac.yaml"
    return f"{verb}: {asked} (the API server answered 403 Forbidden); {where}"


def message(e: ApiException) -> str:
    """The API server's own sentence from a Status body, else the HTTP reason."""
    try:
        return str(json.loads(e.body or "")["message"])
    except (ValueError, KeyError, TypeError):
        return f"{e.status} {e.reason}"


def _api_reason(e: ApiException) -> str:
    if e.status == 401:
        return f"the API server refused opsbot's credentials ({e.status}): {message(e)}"
    if not e.status:
        return f"no HTTP answer: {e.reason}"
    return f"the API server answered {e.status}: {message(e)}"


def _network_reason(e: urllib3.exceptions.HTTPError, timeout: float) -> str:
    inner = getattr(e, "reason", None) or e
    text = str(inner)
    if "refused" in text.lower():  # before the timeout check: NewConnectionError subclasses a timeout error
        return "connection refused"
    if isinstance(inner, urllib3.exceptions.TimeoutError) or "timed out" in text.lower():
        return f"no answer within {timeout:g}s"
    return text.split(": ", 1)[-1]


def require_namespace(ctx: ToolContext, ns: str) -> None:
    """Read the namespace; if it does not exist, say which ones do."""
    try:
        call(ctx, f"namespace {ns}", "core", "read_namespace", ns, passthrough=(404, 403))
    except ApiException as e:
        if e.status == 403:  # namespace-scoped credentials may not read namespaces: let the real call decide
            return
        names = [n.metadata.name for n in call(ctx, "the namespace list", "core", "list_namespace").items]
        raise ToolInputError(f"namespace '{ns}' does not exist; namespaces: {', '.join(sorted(names))}") from None


def pod_not_found(ctx: ToolContext, ns: str, name: str) -> ToolInputError:
    """A helpful refusal: is it a deployment's name? which pods are there?"""
    try:
        call(ctx, f"deployment {ns}/{name}", "apps", "read_namespaced_deployment", name, ns, passthrough=(404,))
        hint = f"'{name}' is a deployment; list its pods with k8s_list(namespace='{ns}', deployment='{name}')"
    except ApiException:
        pods = sorted(p.metadata.name for p in call(ctx, f"pods in {ns}", "core", "list_namespaced_pod", ns).items)
        hint = f"pods there: {', '.join(pods[:15])}{', …' if len(pods) > 15 else ''}" if pods else "it has no pods"
    where = elsewhere(ctx, "Pod", name, ns) or elsewhere(ctx, "Deployment", name, ns).replace(
        "; it is in", f"; deployment {name} is in")
    return ToolInputError(f"pod '{name}' not found in namespace '{ns}'{where}; {hint}")


def deployment_not_found(ctx: ToolContext, ns: str, name: str) -> ToolInputError:
    items = call(ctx, f"deployments in {ns}", "apps", "list_namespaced_deployment", ns).items
    names = sorted(d.metadata.name for d in items)
    there = f"deployments there: {', '.join(names)}" if names else "it has no deployments"
    return ToolInputError(f"deployment '{name}' not found in namespace '{ns}'{elsewhere(ctx, 'Deployment', name, ns)}; "
                          f"{there}")


def elsewhere(ctx: ToolContext, kind: str, name: str, ns: str) -> str:
    """'; it is in namespace payments' when an object of this name lives in other namespaces (the usual
    mistake: the right name in a guessed namespace), else ''."""
    info = KINDS[kind]
    if not info.namespaced:
        return ""
    items = call(ctx, f"the {plural(kind)} of every namespace", info.api, info.list_all_method).items
    found = sorted({i.metadata.namespace for i in items if i.metadata.name == name} - {ns})
    if not found:
        return ""
    return f"; it is in namespace {found[0]}" if len(found) == 1 else f"; it is in namespaces {', '.join(found)}"


def read_or(ctx: ToolContext, asked: str, api: ApiGroup, method: str, *args: Any,
            missing: Callable[[], Exception]) -> Any:
    try:
        return call(ctx, asked, api, method, *args, passthrough=(404,))
    except ApiException:
        raise missing() from None


def read_kind(ctx: ToolContext, kind: str, name: str, ns: str) -> Any:
    """One object of any known kind; if it is not there, say which objects of that kind are."""
    info = KINDS[kind]
    where = f"{ns}/{name}" if info.namespaced else name
    try:
        return call(ctx, f"{kind} {where}", info.api, info.read_method, *info.read_args(name, ns), passthrough=(404,))
    except ApiException:
        if kind == "Pod":
            raise pod_not_found(ctx, ns, name) from None
        if kind == "Deployment":
            raise deployment_not_found(ctx, ns, name) from None
    listed = call(ctx, f"the {plural(kind)}" + (f" in {ns}" if info.namespaced else ""), info.api, info.list_method,
                  *((ns,) if info.namespaced else ())).items
    names = sorted(i.metadata.name for i in listed)
    scope = f" in namespace '{ns}'{elsewhere(ctx, kind, name, ns)}" if info.namespaced else ""
    there = (f"{plural(kind)} there: {', '.join(names[:15])}{', …' if len(names) > 15 else ''}" if names
             else f"there are no {plural(kind)}{scope}")
    raise ToolInputError(f"{kind} '{name}' not found{scope}; {there}")


def selector_of(label_selector: Any) -> str:
    """A V1LabelSelector as the query-string form (matchLabels and matchExpressions)."""
    terms = [f"{k}={v}" for k, v in sorted((label_selector.match_labels or {}).items())]
    for ex in label_selector.match_expressions or []:
        values = ",".join(ex.values or [])
        terms.append({"In": f"{ex.key} in ({values})", "NotIn": f"{ex.key} notin ({values})",
                      "Exists": ex.key, "DoesNotExist": f"!{ex.key}"}[ex.operator])
    return ",".join(terms)


def age(when: datetime | None, now: datetime) -> str | None:
    """kubectl-style age: 40s, 25m, 5h, 6d."""
    if when is None:
        return None
    s = max(int((now - when).total_seconds()), 0)
    for limit, unit, size in ((120, "s", 1), (7200, "m", 60), (172800, "h", 3600)):
        if s < limit:
            return f"{s // size}{unit}"
    return f"{s // 86400}d"


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


OWNER_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def owner_selector(ctx: ToolContext, ns: str, name: str) -> tuple[str, str] | None:
    """(kind, pod selector) of the Deployment, StatefulSet, DaemonSet or Job of this name, or None."""
    for kind in OWNER_KINDS:
        info = KINDS[kind]
        try:
            obj = call(ctx, f"{kind} {ns}/{name}", info.api, info.read_method, name, ns, passthrough=(404,))
        except ApiException:
            continue
        return kind, selector_of(obj.spec.selector)
    return None


def selects(label_selector: Any, labels: dict[str, str] | None) -> bool:
    """Whether a V1LabelSelector (matchLabels, matchExpressions) selects these labels; empty selects all."""
    labels = labels or {}
    if label_selector is None:
        return True
    if any(labels.get(k) != v for k, v in (label_selector.match_labels or {}).items()):
        return False
    for ex in label_selector.match_expressions or []:
        present, value, values = ex.key in labels, labels.get(ex.key), ex.values or []
        ok = {"In": present and value in values, "NotIn": value not in values, "Exists": present,
              "DoesNotExist": not present}.get(ex.operator, False)
        if not ok:
            return False
    return True


def object_events(ctx: ToolContext, kind: str, name: str, ns: str) -> list[Any]:
    """The events about exactly this object (by kind and name), as `kubectl describe` shows them."""
    where = ns or "default"
    return call(ctx, f"the events of {kind} {name}", "core", "list_namespaced_event", where,
                field_selector=f"involvedObject.kind={kind},involvedObject.name={name}").items
