"""This process's name among the control-plane replicas sharing one database: the owner
written on the leases it takes (app.tenancy.leases).

The name is kept in the data directory, so a replica restarted on the same data (a
crashed process, a restarted container) is the same replica and takes its leases back
at once instead of waiting for them to run out. The file is locked while the process
runs (the kernel releases the lock when it dies, however it dies): a second process
on the same data directory gets a name of its own rather than sharing one.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_FILE = "replica-id"
_MAX_LENGTH = 64


@dataclass
class ReplicaIdentity:
    name: str
    _lock: IO[str] | None = None

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


def fresh_name() -> str:
    # The host name first: in Kubernetes that is the pod's name.
    suffix = f"-{os.getpid()}-{secrets.token_hex(3)}"
    return socket.gethostname()[: _MAX_LENGTH - len(suffix)] + suffix


def replica_identity(data_dir: Path) -> ReplicaIdentity:
    """The name kept in ``data_dir`` (made there the first time), held locked; a fresh
    one when another live process holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / _FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return ReplicaIdentity(fresh_name())
    handle.seek(0)
    name = handle.read().strip()[:_MAX_LENGTH]
    if not name:
        name = fresh_name()
        handle.truncate(0)
        handle.write(name)
        handle.flush()
    return ReplicaIdentity(name, handle)
