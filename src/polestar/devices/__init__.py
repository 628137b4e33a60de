"""The officer device gateway: checks from the street, dispatches to the car, unit status back.

Flows 1 and 2 of DESIGN.md. The API mounts it (``polestar.api.device_component``);
this package knows no web:

* ``ChecksDesk`` asks the configured national system (a SOAP connector) behind a
  circuit breaker and a timeout, and reads the reply into ``PersonAnswer`` /
  ``VehicleAnswer``;
* ``DispatchFeed`` pushes incidents assigned to a unit to its devices in bus
  order, replaying from the bus on reconnect;
* ``StatusDesk`` orders a unit's status updates per incident and publishes them
  for a route to carry to CAD.
"""

from polestar.devices.answers import PersonAnswer, VehicleAnswer
from polestar.devices.audit import AuditRecorder
from polestar.devices.checks import (
    CheckError,
    CheckNotAgreed,
    CheckRefused,
    ChecksDesk,
    CheckUnavailable,
    PersonCheck,
    VehicleCheck,
)
from polestar.devices.config import DeviceGatewayConfig, load_device_config
from polestar.devices.dispatch import DispatchFeed, StreamOverrun, dispatch_payload, sse_events
from polestar.devices.status import (
    INCIDENT_PATTERN,
    SequenceConflict,
    StatusAccepted,
    StatusDesk,
    StatusReport,
    UnknownStatus,
)

__all__ = [
    "INCIDENT_PATTERN",
    "AuditRecorder",
    "CheckError",
    "CheckNotAgreed",
    "CheckRefused",
    "CheckUnavailable",
    "ChecksDesk",
    "DeviceGatewayConfig",
    "DispatchFeed",
    "PersonAnswer",
    "PersonCheck",
    "SequenceConflict",
    "StatusAccepted",
    "StatusDesk",
    "StatusReport",
    "StreamOverrun",
    "UnknownStatus",
    "VehicleAnswer",
    "VehicleCheck",
    "dispatch_payload",
    "load_device_config",
    "sse_events",
]
