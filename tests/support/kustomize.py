"""The part of Kustomize that deploy/kubernetes uses, in Python, so the manifests' tests need no kubectl:
resources (files and directories), components, configMapGenerator (create, replace; no name hash), namespace,
labels (metadata only) and images. Anything else in a kustomization fails loudly, never silently ignored;
tests/deploy/test_manifests.py compares this with `kubectl kustomize` where kubectl is installed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "namespace", "labels", "resources", "components", "configMapGenerator", "images"}
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "Namespace", "PersistentVolume", "StorageClass"}
Obj = dict[str, Any]


def build(root: Path) -> list[Obj]:
    """Every object `kubectl kustomize root` would print (in no particular order)."""
    return _kustomization(root, "Kustomization", [])


def _kustomization(root: Path, kind: str, objects: list[Obj]) -> list[Obj]:
    k = yaml.safe_load((root / "kustomization.yaml").read_text())
    if k.get("kind", "Kustomization") != kind:
        raise ValueError(f"{root}: expected kind {kind}, got {k.get('kind')}")
    unknown = set(k) - SUPPORTED
    if unknown:
        raise ValueError(f"{root}/kustomization.yaml: {sorted(unknown)} not supported by tests/support/kustomize.py")
    mine: list[Obj] = []
    for entry in k.get("resources", []):
        path = root / entry
        loaded = build(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
        for obj in loaded:
            _add(mine if kind == "Kustomization" else objects, obj, root)
    if kind == "Component":  # a component works on what its parent has accumulated
        mine = objects
    for component in k.get("components", []):
        _kustomization(root / component, "Component", mine)
    for gen in k.get("configMapGenerator", []):
        _generate(root, gen, mine)
    for obj in mine:
        _transform(obj, k)
    return mine


def _add(objects: list[Obj], obj: Obj, root: Path) -> None:
    key = (obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace"))
    if any((o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) == key for o in objects):
        raise ValueError(f"{root}: may not add resource with an already registered id: {key}")
    objects.append(copy.deepcopy(obj))


def _generate(root: Path, gen: Obj, objects: list[Obj]) -> None:
    if not gen.get("options", {}).get("disableNameSuffixHash"):
        raise ValueError(f"{root}: configMapGenerator {gen['name']} without disableNameSuffixHash is not supported")
    data = {}
    for f in gen.get("files", []):
        key, _, source = f.rpartition("=") if "=" in f else (Path(f).name, "", f)
        data[key] = (root / source).read_text()
    behavior = gen.get("behavior", "create")
    existing = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == gen["name"]]
    if behavior == "replace":
        if not existing:
            raise ValueError(f"{root}: configMapGenerator {gen['name']}: nothing to replace")
        existing[0]["data"] = data
    elif behavior == "create":
        _add(objects, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data},
             root)
    else:
        raise ValueError(f"{root}: configMapGenerator behavior {behavior} not supported")


def _transform(obj: Obj, k: Obj) -> None:
    if "namespace" in k and obj["kind"] not in CLUSTER_SCOPED:
        obj["metadata"]["namespace"] = k["namespace"]
    for label in k.get("labels", []):
        if label.get("includeSelectors") or label.get("includeTemplates"):
            raise ValueError("labels into selectors or templates are not supported")
        obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in k.get("images", []):
        template = obj.get("spec", {}).get("template", {}).get("spec", {})
        for c in [*template.get("containers", []), *template.get("initContainers", [])]:
            if c.get("image") == image["name"]:
                c["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
