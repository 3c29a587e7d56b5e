"""Strict checks of Kubernetes-shaped scenario content against the official client's own models.

A scenario may hold pod specs and whole manifests in Kubernetes' own form. The client's models ignore keys
they do not know, so a typo (`nodeSelctor`) would vanish silently; this walk names it with its path, checks
each value's type, and then lets the client deserialise the result (which enforces required fields).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from kubernetes import client

_LIST = re.compile(r"^List\[(.+)\]$")
_DICT = re.compile(r"^Dict\[str, (.+)\]$")
_PRIMITIVE = {"str": (str, int, float), "int": (int,), "float": (int, float), "bool": (bool,), "bytes": (str,)}

# kind -> (apiVersion, the client's model, namespaced)
KINDS: dict[str, tuple[str, str, bool]] = {
    "Pod": ("v1", "V1Pod", True),
    "Service": ("v1", "V1Service", True),
    "Endpoints": ("v1", "V1Endpoints", True),
    "ConfigMap": ("v1", "V1ConfigMap", True),
    "Secret": ("v1", "V1Secret", True),
    "PersistentVolumeClaim": ("v1", "V1PersistentVolumeClaim", True),
    "PersistentVolume": ("v1", "V1PersistentVolume", False),
    "ResourceQuota": ("v1", "V1ResourceQuota", True),
    "LimitRange": ("v1", "V1LimitRange", True),
    "StorageClass": ("storage.k8s.io/v1", "V1StorageClass", False),
    "NetworkPolicy": ("networking.k8s.io/v1", "V1NetworkPolicy", True),
    "HorizontalPodAutoscaler": ("autoscaling/v2", "V2HorizontalPodAutoscaler", True),
    "ServiceAccount": ("v1", "V1ServiceAccount", True),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io/v1", "V1ValidatingWebhookConfiguration", False),
    "Job": ("batch/v1", "V1Job", True),
    "CronJob": ("batch/v1", "V1CronJob", True),
    "StatefulSet": ("apps/v1", "V1StatefulSet", True),
    "DaemonSet": ("apps/v1", "V1DaemonSet", True),
}


def conform(data: Any, model: str, path: str, found: list[str]) -> Any:
    """`data` read as the client model `model` (e.g. 'V1PodSpec'): every unknown key and mistyped value is
    appended to `found`; numbers where the API has strings (quantities such as `cpu: 2`) become strings."""
    if model == "object":
        return data
    if model == "datetime":
        if not isinstance(data, str):
            found.append(f"{path}: expected a timestamp string")
        return data
    if model in _PRIMITIVE:
        if not isinstance(data, _PRIMITIVE[model]) or (model != "bool" and isinstance(data, bool)):
            found.append(f"{path}: expected {model}, got {type(data).__name__}")
            return data
        return str(data) if model == "str" else data
    if m := _LIST.match(model):
        if not isinstance(data, list):
            found.append(f"{path}: expected a list")
            return data
        return [conform(item, m.group(1), f"{path}[{i}]", found) for i, item in enumerate(data)]
    if m := _DICT.match(model):
        if not isinstance(data, dict):
            found.append(f"{path}: expected a mapping")
            return data
        return {k: conform(v, m.group(1), f"{path}.{k}", found) for k, v in data.items()}
    cls = getattr(client, model)
    if not isinstance(data, dict):
        found.append(f"{path}: expected a mapping ({model[2:]})")
        return data
    by_json = {v: k for k, v in cls.attribute_map.items()}
    fields = getattr(cls, "model_fields", {})
    for attr, key in cls.attribute_map.items():
        if attr in fields and fields[attr].is_required() and data.get(key) is None:
            found.append(f"{path}.{key}: required")
    out = {}
    for key, value in data.items():
        attr = by_json.get(key)
        if attr is None:
            close = difflib.get_close_matches(key, by_json, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(f"{path}.{key}: unknown key for {model[2:]}{hint}")
        else:
            out[key] = None if value is None else conform(value, cls.openapi_types[attr], f"{path}.{key}", found)
    return out


def check(data: Any, model: str, path: str) -> Any:
    """`data` conformed to `model`; ValueError naming every problem, including the client's required fields."""
    found: list[str] = []
    out = conform(data, model, path, found)
    if not found:
        try:
            client.ApiClient()._ApiClient__deserialize(out, model)  # noqa: SLF001 - the client's own deserialiser
        except (ValueError, TypeError) as e:
            lines = [line for line in str(e).splitlines() if not line.strip().startswith("For further")]
            found = [f"{path}: {' '.join(line.strip() for line in lines[1:]) or lines[0]}"]
    if found:
        raise ValueError("; ".join(found))
    return out
