"""The model family of a tenant's cluster, and the vocabulary it is written in.

Every field of a cluster, its default and its rules are declared here once
(``cluster.py``); the tables, the create and update requests, the Kubernetes shape, the
REST shapes, the GraphQL types and the OpenAPI document all derive from these models.
The name and quantity rules they use live beside them (``names.py``, ``quantity.py``).

The bottom layer: pure, importing nothing from the rest of ``app``.
"""
