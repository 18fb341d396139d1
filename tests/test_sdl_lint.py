"""The published SDL passes graphql-eslint's schema rules (.ci/sdl-lint: the versions
pinned in its package-lock.json, the rules and their recorded exceptions in its
eslint.config.mjs). .ci/run installs the linter with `npm ci`; elsewhere these tests
skip until it is installed the same way (`npm ci --prefix .ci/sdl-lint`), but never
on CI, where a missing linter fails them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.api.graphql.schema import sdl
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parent.parent
LINT_DIR = ROOT / ".ci" / "sdl-lint"
ESLINT = LINT_DIR / "node_modules" / ".bin" / "eslint"
CONFIG = LINT_DIR / "eslint.config.mjs"


@pytest.fixture(scope="module")
def eslint() -> Path:
    require_tool(
        ESLINT.exists(), what="the SDL linter", install="npm ci --prefix .ci/sdl-lint"
    )
    return ESLINT


def _lint(eslint: Path, *, sdl_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """Lint schema/schema.graphql, or ``sdl_text`` as if it were a file beside it."""
    command = [str(eslint), "--max-warnings", "0", "-c", str(CONFIG)]
    if sdl_text is None:
        command.append("schema/schema.graphql")
    else:
        command += ["--stdin", "--stdin-filename", "schema/probe.graphql"]
    return subprocess.run(
        command, cwd=ROOT, input=sdl_text, capture_output=True, text=True, timeout=120
    )


def test_published_sdl_is_lint_clean(eslint: Path) -> None:
    result = _lint(eslint)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lint_refuses_what_the_schema_fixed(eslint: Path) -> None:
    """The configuration bites: the published SDL with one description taken away, an
    enum value in lower case outside the enums named by their values, and a type named
    like a Relay connection without being one, are each reported."""
    described = '  """The Elasticsearch user: elastic."""\n'
    published = sdl()
    assert described in published
    probe = published.replace(described, "") + (
        '\n"""A probe."""\nenum Colour {\n  """Red."""\n  red\n}\n'
        '\n"""A probe."""\ntype ProbeConnection {\n  """A probe."""\n  endpoint: String!\n}\n'
    )
    result = _lint(eslint, sdl_text=probe)
    assert result.returncode == 1, result.stdout + result.stderr
    for rule in ["require-description", "naming-convention", "relay-connection-types"]:
        assert f"@graphql-eslint/{rule}" in result.stdout, result.stdout
    assert 'Enum value "red" should be in UPPER_CASE format' in result.stdout
    assert "ClusterStatus" not in result.stdout  # its values are named by the contract
