"""Starting, stopping and connecting to a SandboxCluster; serve_forever; kubeconfig."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import aiohttp
import pytest
import yaml
from kubernetes_asyncio import client, config

from kube_sandbox import SandboxCluster, serve_forever
from kube_sandbox.protobuf import MAGIC, decode_object


def sandbox_tasks() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("sandbox-")}


async def test_start_stop_and_context_manager(tmp_path: Path) -> None:
    cluster = SandboxCluster(ready_seconds=0.1)
    with pytest.raises(RuntimeError):
        _ = cluster.url
    async with cluster:
        assert cluster.url.startswith("http://127.0.0.1:")
        assert "sandbox-statefulset-controller" in sandbox_tasks()
        with pytest.raises(RuntimeError, match="already running"):
            await cluster.start()
        async with aiohttp.ClientSession() as http, http.get(f"{cluster.url}/readyz") as response:
            assert response.status == 200
        url = cluster.url
    assert sandbox_tasks() == set()  # every controller task was cancelled and awaited
    await cluster.stop()  # idempotent
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{url}/readyz")


async def test_fixed_port_and_restart_keeps_the_objects() -> None:
    probe = SandboxCluster()
    await probe.start()
    port = int(probe.url.rsplit(":", 1)[1])
    await probe.stop()
    cluster = SandboxCluster(port=port, ready_seconds=0.05)
    await cluster.start()
    try:
        assert cluster.url == f"http://127.0.0.1:{port}"
        cluster.registry.create(
            cluster.resources.get("", "namespaces"), "", {"metadata": {"name": "survivor"}}
        )
        await cluster.stop()
        await cluster.start()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{cluster.url}/api/v1/namespaces/survivor") as response,
        ):
            assert response.status == 200
    finally:
        await cluster.stop()


async def test_kubeconfig_file(sandbox: SandboxCluster, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(tmp_path / "nested" / "dir" / "config")
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    document = yaml.safe_load(path.read_text())
    assert document["current-context"] == "sandbox"
    assert document["clusters"] == [{"name": "sandbox", "cluster": {"server": sandbox.url}}]
    assert document["contexts"][0]["context"] == {"cluster": "sandbox", "user": "sandbox"}
    assert document["users"][0]["name"] == "sandbox"
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(path), client_configuration=configuration)
    assert configuration.host == sandbox.url
    path.chmod(0o644)
    sandbox.write_kubeconfig(path)  # rewriting tightens an existing file too
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_serve_forever_writes_kubeconfig_and_stops_when_cancelled(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "sandbox.kubeconfig"
    server = asyncio.create_task(
        serve_forever(host="127.0.0.1", port=0, ready_seconds=0.1, kubeconfig_path=kubeconfig)
    )
    for _ in range(200):
        if kubeconfig.exists():
            break
        await asyncio.sleep(0.01)
    url = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    async with aiohttp.ClientSession() as http, http.get(f"{url}/version") as response:
        assert (await response.json())["major"] == "1"
    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server
    assert sandbox_tasks() == set()


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_protobuf_bodies_decode_like_json() -> None:
    label = _field(11, _field(1, b"team") + _field(2, b"a"))
    metadata = _field(1, b"cm") + _field(2, b"") + label
    data = _field(2, _field(1, b"key") + _field(2, b"value"))
    raw = _field(1, metadata) + data
    envelope = _field(1, _field(1, b"v1") + _field(2, b"ConfigMap")) + _field(2, raw)
    assert decode_object(MAGIC + envelope) == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"team": "a"}}, "data": {"key": "value"},
    }  # fmt: skip
    unknown_kind = _field(1, _field(1, b"apps/v1") + _field(2, b"Deployment"))
    with pytest.raises(Exception, match="send Deployment as JSON"):
        decode_object(MAGIC + unknown_kind)
