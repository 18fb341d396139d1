"""Which Kubernetes API server to talk to, and a client for it.

Every mode ends in the same kubernetes-asyncio ``ApiClient``: the sandbox cluster is
reached through the kubeconfig it writes, exactly like a real cluster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient, Configuration

from app.settings import KubeMode, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KubeTarget:
    mode: KubeMode  # never AUTO: the resolved choice
    kubeconfig: Path | None = None


def resolve_target(settings: Settings) -> KubeTarget:
    mode = settings.kube_mode
    if mode is KubeMode.AUTO:
        if settings.in_cluster:
            mode = KubeMode.INCLUSTER
        elif settings.default_kubeconfig_path is not None:
            mode = KubeMode.KUBECONFIG
        else:
            mode = KubeMode.SANDBOX
    if mode is KubeMode.SANDBOX:
        return KubeTarget(mode, settings.sandbox_kubeconfig_path)
    if mode is KubeMode.KUBECONFIG:
        path = settings.default_kubeconfig_path
        if path is None:
            raise SystemExit(
                "ESS_KUBE_MODE=kubeconfig but neither KUBECONFIG nor ~/.kube/config exists"
            )
        return KubeTarget(mode, path)
    return KubeTarget(KubeMode.INCLUSTER)


async def open_api_client(target: KubeTarget) -> ApiClient:
    configuration = Configuration()
    if target.mode is KubeMode.INCLUSTER:
        kube_config.load_incluster_config(client_configuration=configuration)
    else:
        await kube_config.load_kube_config(
            config_file=str(target.kubeconfig), client_configuration=configuration
        )
    log.info("Kubernetes API: %s (mode %s)", configuration.host, target.mode.value)
    return ApiClient(configuration=configuration)
