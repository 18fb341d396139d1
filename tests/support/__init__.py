"""What the tests share, one module per job (fixtures stay in ``tests/conftest.py``):

- ``factories``: request bodies and validated requests for a cluster.
- ``waiting``: waiting on a condition, never a fixed sleep.
- ``servers``: ``es-serverless serve`` and ``es-serverless sandbox`` as subprocesses,
  for the tests where a process must die or restart.
- ``inprocess``: the real ASGI app, its lifespan and its sandbox cluster in the test's
  own event loop, spoken to through httpx's ASGITransport.
- ``sandbox``: reading and steering the sandbox cluster over its HTTP API.
- ``kubectl``: the real kubectl against a kubeconfig.
- ``websocket``: a graphql-transport-ws client.
"""
