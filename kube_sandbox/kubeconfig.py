"""A kubeconfig pointing at the sandbox, usable by kubectl and kubernetes_asyncio."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import yaml

NAME = "sandbox"


def kubeconfig(server: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": NAME, "cluster": {"server": server}}],
        "contexts": [{"name": NAME, "context": {"cluster": NAME, "user": NAME}}],
        "current-context": NAME,
        # The sandbox does not authenticate; a token keeps clients on their usual
        # code path (an Authorization header) without any special casing.
        "users": [{"name": NAME, "user": {"token": NAME}}],
        "preferences": {},
    }


def write_kubeconfig(path: pathlib.Path, server: str) -> pathlib.Path:
    """Write the kubeconfig with mode 0600 (kubectl warns about wider permissions)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig(server), sort_keys=False)
    # Create with the final mode so the file is never briefly world-readable.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to an existing file
    return path
