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
    """Write the kubeconfig with mode 0600 (kubectl warns about wider permissions), whole
    or not at all: written beside it and renamed over it, so whoever waits for the file
    to appear (a server that started the sandbox as a process of its own) never reads
    half of it."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig(server), sort_keys=False)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    # Created with the final mode, so the file is never briefly world-readable.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        partial.chmod(0o600)  # O_CREAT's mode does not apply to an existing file
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
