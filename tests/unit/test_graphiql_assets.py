"""The GraphiQL assets the page names are the ones graphiql/package.json installs, and
the page takes the local copies only when all of them are there."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path

import pytest

from app.api.graphiql.assets import ASSETS, asset_source
from tests.support.tools import require_tool

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "graphiql"


def test_the_lockfile_pins_the_versions_the_page_loads() -> None:
    declared = json.loads((PACKAGE_DIR / "package.json").read_text())["dependencies"]
    locked = json.loads((PACKAGE_DIR / "package-lock.json").read_text())["packages"]
    for asset in ASSETS:
        assert declared[asset.package] == asset.version, asset.package
        assert locked[f"node_modules/{asset.package}"]["version"] == asset.version
        assert locked[f"node_modules/{asset.package}"]["integrity"].startswith("sha512-")


def test_installed_files_have_the_cdns_integrity_hashes() -> None:
    source = asset_source(PACKAGE_DIR)
    # Skipped on a developer machine without them, required on CI (as the browser tests).
    require_tool(
        bool(source.local), what="the graphiql npm package", install="npm ci --prefix graphiql"
    )
    for asset in ASSETS:
        file = source.file(asset)
        assert file is not None
        digest = base64.b64encode(hashlib.sha384(file.read_bytes()).digest()).decode()
        assert asset.integrity == f"sha384-{digest}", asset.path


def test_an_incomplete_install_falls_back_to_the_cdn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for asset in ASSETS[1:]:  # all but React
        file = tmp_path / "node_modules" / asset.package / asset.file
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("x")
    assert asset_source(None).local is None
    with caplog.at_level(logging.WARNING):
        assert asset_source(tmp_path).local is None
    assert "react@18.2.0/umd/react.production.min.js" in caplog.text
    (tmp_path / "node_modules/react/umd").mkdir(parents=True)
    (tmp_path / "node_modules/react/umd/react.production.min.js").write_text("x")
    assert asset_source(tmp_path).local == tmp_path / "node_modules"
