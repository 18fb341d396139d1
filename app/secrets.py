"""Secrets the control plane holds: generated-once files in the data dir, and the
per-cluster secrets derived from the server key.

Deriving (HMAC-SHA256 of the server key and the record id, with the cluster's
credentials generation for its password) rather than storing means
no secret sits in the database in plain text, and work resumed from the records
alone can still rebuild a cluster's Kubernetes Secrets identically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

REPORT_TOKEN_PREFIX = "essr_"
# Longest encoded deployment id a report token may carry (ids are at most 200 chars).
MAX_NAMED = 400


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def load_or_create_secret(path: Path, *, what: str) -> str:
    """The secret stored at ``path``; on first use generated there with mode 0600."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = random_token()
    # O_EXCL: two processes starting at once must not write two different secrets.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    log.warning("generated the %s; it is in %s (mode 0600)", what, path)
    return value


class SecretDeriver:
    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")

    def _derive(self, purpose: str, record_id: str, length: int = 32) -> str:
        digest = hmac.new(self._key, f"{purpose}:{record_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:length]

    def fingerprint(self) -> str:
        """Names the key without revealing it: replicas compare theirs by it."""
        return self._derive("key-fingerprint", "es-serverless", length=43)

    def elastic_password(self, container_id: str, generation: int = 0) -> str:
        """The `elastic` password of a cluster whose credentials were reset
        ``generation`` times. Generation 0 is derived as before generations existed, so
        clusters made then keep their password."""
        named = f"{container_id}:{generation}" if generation else container_id
        return self._derive("elastic-password", named)

    def report_token(self, deployment_id: str) -> str:
        """``essr_<base64url(deployment id)>.<mac>``: it names its deployment, so it is
        verified offline (no database look-up) by whoever holds the server key."""
        named = base64.urlsafe_b64encode(deployment_id.encode()).decode("ascii").rstrip("=")
        mac = self._derive("report-token", deployment_id, length=43)
        return f"{REPORT_TOKEN_PREFIX}{named}.{mac}"

    def report_token_deployment(self, token: str) -> str | None:
        """The deployment a genuine report token names; None for anything else."""
        named, dot, _ = token.removeprefix(REPORT_TOKEN_PREFIX).partition(".")
        if not (token.startswith(REPORT_TOKEN_PREFIX) and token.isascii() and dot):
            return None
        if len(named) > MAX_NAMED:
            return None
        try:
            deployment_id = base64.urlsafe_b64decode(named + "=" * (-len(named) % 4)).decode()
        except ValueError:  # bad base64 or not UTF-8
            return None
        # The whole token is compared, so only the one canonical spelling is accepted.
        genuine = self.report_token(deployment_id).encode()
        return deployment_id if hmac.compare_digest(genuine, token.encode()) else None
