"""The sandbox cluster as a process of its own (the default of ``es-serverless serve``):
started with the server, driven over its kubeconfig like a real cluster, and never
outliving the server, whichever way the server ends."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.runtime import open_runtime
from app.settings import KubeMode, Settings
from tests.support.databases import database_url_for
from tests.support.http import create_accepted, wait_for_status
from tests.support.servers import kubeconfig_server
from tests.support.waiting import wait_until


def children(pid: int) -> list[int]:
    listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in listed.split()]


def command_line(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/namespaces", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads the process tree from /proc (Linux)"
)


@needs_proc
def test_a_cluster_is_created_on_the_sandbox_process_the_server_started(
    make_server: Any, org: str
) -> None:
    server = make_server()
    assert server.process is not None
    [sandbox] = children(server.process.pid)
    assert command_line(sandbox)[2:5] == ["app.cli", "sandbox", "--kubeconfig"]
    url = kubeconfig_server(server.kubeconfig)
    with server.client() as client:
        create_accepted(client, org, "alice", "search")
        done = wait_for_status(
            client, user="alice", service_name="search", tenant_org_id=org, wanted={"created"}
        )
    statefulset = server.sandbox.statefulset(done["namespace"])
    assert statefulset["status"]["readyReplicas"] == done["replicas"]
    # kubectl reaches it through the same kubeconfig.
    shown = subprocess.run(
        ["kubectl", "--kubeconfig", str(server.kubeconfig), "get", "namespace", done["namespace"]],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done["namespace"] in shown.stdout
    assert answers(url)


@needs_proc
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_sandbox_process_ends_with_its_server(
    make_server: Any, how: signal.Signals
) -> None:
    server = make_server()
    url = kubeconfig_server(server.kubeconfig)
    assert answers(url)
    server.stop(kill=how is signal.SIGKILL)
    wait_until(lambda: not answers(url), timeout=15, what="the sandbox stopped answering")


async def test_an_in_process_runtime_starts_and_stops_a_sandbox_process(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        kube_mode=KubeMode.SANDBOX,
        database_url=database_url_for(tmp_path),
        sandbox_ready_seconds=0,
    )
    assert settings.sandbox_in_process is False  # the default
    async with open_runtime(settings) as runtime:
        assert runtime.sandbox is None  # not in this process
        url = kubeconfig_server(settings.sandbox_kubeconfig_path)
        assert runtime.kube.server == url
        namespace = await runtime.kube.call(runtime.kube.core.read_namespace, name="default")
        assert namespace.metadata.name == "default"
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(f"{url}/api/v1/namespaces")


def test_the_sandbox_command_stops_when_its_standard_input_closes(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "sandbox.kubeconfig"
    command = [sys.executable, "-m", "app.cli", "sandbox", "--kubeconfig", str(kubeconfig)]
    process = subprocess.Popen(
        [*command, "--ready-seconds", "0", "--until-stdin-closes"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(kubeconfig.exists, what="the kubeconfig written")
        # Written whole, beside it and renamed: nothing half-written is left behind.
        assert [p.name for p in tmp_path.iterdir()] == ["sandbox.kubeconfig"]
        assert kubeconfig.stat().st_mode & 0o777 == 0o600
        assert answers(kubeconfig_server(kubeconfig))
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
