"""Kubernetes resource quantities ('500m', '2Gi', '1e3', 4) as exact numbers of base units, and back as the API
server prints a sum."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
           "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|K|M|G|T|P|E)?$")


def quantity(value: Any) -> Decimal:
    m = _QUANTITY.match(str(value).strip())
    if not m:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return Decimal(m.group(1)) * Decimal(_SUFFIX[m.group(2) or ""])


def amount(resource: str, value: Decimal) -> str:
    """A quantity as the API server prints a sum: 2Gi, 512Mi, 500m, 3."""
    if resource.endswith("cpu"):
        return f"{int(value * 1000)}m" if value % 1 else str(int(value))
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value and value % size == 0 and resource.endswith(("memory", "storage")):
            return f"{int(value / size)}{unit}"
    return str(int(value)) if value == int(value) else str(value)
