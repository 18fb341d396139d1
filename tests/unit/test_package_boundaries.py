"""The control plane (app) and the sandbox cluster (kube_sandbox) load apart.

A server on a real cluster never loads the emulator: every module of app imports
without kube_sandbox, which app.runtime and app.cli import only when they start one.
And the emulator stands alone: kube_sandbox imports without anything of app.
Each check runs in a fresh interpreter, so nothing this test session has already
imported can hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOADED_AFTER_IMPORTING_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module({package!r})
names = [package.__name__] + [
    info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
]
for name in names:
    importlib.import_module(name)
print(json.dumps({{"imported": names, "loaded": sorted(sys.modules)}}))
"""


def _import_everything_in(package: str) -> tuple[list[str], set[str]]:
    """Import every module of ``package`` in a new interpreter: (modules imported,
    top-level packages loaded)."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_IMPORTING_ALL.format(package=package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout)
    return report["imported"], {name.split(".")[0] for name in report["loaded"]}


def test_the_control_plane_loads_without_the_sandbox() -> None:
    imported, loaded = _import_everything_in("app")
    assert {"app.server", "app.runtime", "app.cli", "app.api.health"} <= set(imported)
    assert "app" in loaded
    assert "kube_sandbox" not in loaded


def test_the_sandbox_loads_without_the_control_plane() -> None:
    imported, loaded = _import_everything_in("kube_sandbox")
    assert {"kube_sandbox.cluster", "kube_sandbox.quantity"} <= set(imported)
    assert "kube_sandbox" in loaded
    assert "app" not in loaded
