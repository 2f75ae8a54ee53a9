"""The core loads without Qt: every module of mcp_auth_desktop.core, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = r"""
import importlib, json, pkgutil, sys
import mcp_auth_desktop.core as core
names = sorted(m.name for m in pkgutil.iter_modules(core.__path__, core.__name__ + "."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6", "qasync"))}))
"""


def test_core_imports_without_pyside6() -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {f"mcp_auth_desktop.core.{m}" for m in (
        "jsonutil", "http", "urls", "pkce", "metadata", "oauth", "discovery", "registration", "flow")}
    assert expected <= set(result["modules"])
    assert result["qt"] == []
