"""The volume provisioner's voice: a claim the sandbox binds as it is created (see
``PersistentVolumeClaimStrategy``) gets the event the persistent volume controller
records for a dynamically provisioned volume."""

from __future__ import annotations

from .events import record_event
from .registry import Registry, with_type
from .resources import PVCS
from .store import StoreEvent
from .tasks import TaskSet, consume

COMPONENT = "persistentvolume-controller"
# The in-tree provisioner of local-up clusters, which is what the sandbox imitates.
PLUGIN = "kubernetes.io/host-path"


class Provisioner:
    def __init__(self, registry: Registry, tasks: TaskSet) -> None:
        self._registry = registry
        self._tasks = tasks

    def start(self) -> None:
        subscription = self._registry.store.subscribe([PVCS])
        self._tasks.spawn(
            consume(subscription, self._handle, "provisioner"), name="sandbox-provisioner"
        )

    def _handle(self, events: list[StoreEvent]) -> None:
        for event in events:
            if event.type != "ADDED":
                continue
            claim = event.object
            record_event(
                self._registry,
                about=with_type(PVCS, claim),
                type="Normal",
                reason="ProvisioningSucceeded",
                message=f"Successfully provisioned volume {claim['spec'].get('volumeName', '')} "
                f"using {PLUGIN}",
                component=COMPONENT,
            )
