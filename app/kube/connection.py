"""Which Kubernetes API server to talk to, and a client for it.

Every mode ends in the same kubernetes-asyncio ``ApiClient``: the sandbox cluster is
reached through the kubeconfig it writes, exactly like a real cluster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient, Configuration
from yarl import URL

from app.settings import KubeMode, Settings

log = logging.getLogger(__name__)
# What kubernetes-asyncio gives its session: a watch event can carry a large object.
_READ_BUFFER_BYTES = 2**21


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
    settle_proxy(configuration)
    api = ApiClient(configuration=configuration)
    _stop_environment_lookups(api)
    return api


def settle_proxy(configuration: Configuration) -> None:
    """The proxy to the API server, decided once: the kubeconfig's ``proxy-url`` when it
    names one, else ``HTTPS_PROXY``/``HTTP_PROXY`` unless ``NO_PROXY`` exempts the
    server (as kubectl decides it)."""
    if configuration.proxy or not configuration.host:
        return
    try:
        proxy, auth = get_env_proxy_for_url(URL(configuration.host))
    except LookupError:
        return
    configuration.proxy = str(proxy)
    if auth is not None:
        configuration.proxy_headers = {"Proxy-Authorization": auth.encode()}


def _stop_environment_lookups(api: ApiClient) -> None:
    """kubernetes-asyncio's HTTP session trusts the environment, which makes aiohttp look
    up the proxy variables and read ``~/.netrc`` in a worker thread on every request:
    two thread hops per Kubernetes call, a third of the client's cost when provisioning.
    The proxy is settled once (``settle_proxy``) and kubectl reads no netrc, so the
    session is swapped for one that does not, on the same connection pool."""
    rest = api.rest_client
    trusting = rest.pool_manager
    rest.pool_manager = aiohttp.ClientSession(
        connector=trusting.connector, trust_env=False, read_bufsize=_READ_BUFFER_BYTES
    )
    trusting.detach()  # the connection pool is the new session's now
