"""Tools some tests need beyond Python (Chromium, npm packages): on a developer's
machine a test skips, saying how to install what is missing; on CI, where .ci/run
installs everything, a missing tool fails the test instead of hiding it."""

from __future__ import annotations

import os

import pytest


def require_tool(present: bool, *, what: str, install: str) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed on CI ({install} in .ci/run)")
    pytest.skip(f"{what} is not installed: run `{install}`")
