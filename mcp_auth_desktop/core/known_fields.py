"""Reading a dataclass back from its JSON form: the keys it knows, no others.

Shared by :mod:`core.models` and :mod:`core.credentials`: ``from_dict`` ignores
unknown keys so an older build can read a file a newer one wrote.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

__all__ = ["known_fields"]

_T = TypeVar("_T")


@functools.cache
def _field_names(cls: type[Any]) -> frozenset[str]:
    # Once per class: loading 200 servers called fields() 400 times (bench/bench_gui.py).
    return frozenset(f.name for f in fields(cls))


def known_fields(cls: type[_T], data: Mapping[str, Any]) -> dict[str, Any]:
    """The items of ``data`` whose keys are fields of the dataclass ``cls``."""
    names = _field_names(cls)  # type: ignore[arg-type]  # a class is hashable
    return {k: v for k, v in data.items() if k in names}
