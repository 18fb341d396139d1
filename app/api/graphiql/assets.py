"""The third-party files the GraphiQL page loads, pinned, and where they come from.

Each one is a file of an npm package at a fixed version. The same file is on the CDN
(unpkg serves the files of the npm packages) and, when ``npm ci --prefix DIR`` has run
on graphiql/package.json, under ``DIR/node_modules``: one integrity hash holds for
both, and the browser checks it whichever the page uses. graphiql/package-lock.json
pins the same versions; tests/unit/test_graphiql_assets.py checks that they agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CDN = "https://unpkg.com"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    file: str  # inside the package
    integrity: str  # Subresource Integrity of the file, as on the CDN

    @property
    def path(self) -> str:
        """Versioned, hence cacheable for ever: ``react@18.2.0/umd/react.production.min.js``."""
        return f"{self.package}@{self.version}/{self.file}"

    @property
    def is_script(self) -> bool:
        return self.file.endswith(".js")


# In the order the page loads them: React before what uses it.
ASSETS = (
    Asset(
        "react",
        "18.2.0",
        "umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom",
        "18.2.0",
        "umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    Asset(
        "graphiql",
        "3.8.3",
        "graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "dist/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)
BY_PATH = {asset.path: asset for asset in ASSETS}


@dataclass(frozen=True)
class AssetSource:
    """Where the page takes the assets from: ``local`` (a node_modules directory this
    server serves them from) or, when it is None, the CDN."""

    local: Path | None

    def url(self, asset: Asset, prefix: str) -> str:
        return f"{prefix}/{asset.path}" if self.local else f"{CDN}/{asset.path}"

    def file(self, asset: Asset) -> Path | None:
        if self.local is None:
            return None
        return self.local / asset.package / asset.file


def asset_source(install_dir: Path | None) -> AssetSource:
    """The local copies when every one of them is installed under ``install_dir``
    (the directory given to ``npm ci --prefix``), else the CDN."""
    if install_dir is None:
        return AssetSource(None)
    modules = install_dir / "node_modules"
    missing = [a.path for a in ASSETS if not (modules / a.package / a.file).is_file()]
    if missing:
        log.warning(
            "GraphiQL assets missing under %s (%s): the page loads them from %s; "
            "install them with `npm ci --prefix %s` (see README)",
            modules,
            ", ".join(missing),
            CDN,
            install_dir,
        )
        return AssetSource(None)
    return AssetSource(modules)
