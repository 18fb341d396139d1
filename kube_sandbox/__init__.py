"""The sandbox cluster: an emulated Kubernetes API server for development and tests.

Start one with ``async with SandboxCluster() as cluster:`` and point any Kubernetes
client at ``cluster.write_kubeconfig(path)``.
"""

from .cluster import SandboxCluster, serve_forever

__all__ = ["SandboxCluster", "serve_forever"]
