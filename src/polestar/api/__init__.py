"""The HTTP API: a thin way in over the hub's components (see DESIGN.md).

``create_app(config)`` builds the FastAPI application; nothing happens at
import or construction time, components start in the application's lifespan.
"""

from polestar.api.app import create_app
from polestar.api.health import ComponentStatus, Health, HubState, Readiness
from polestar.api.problems import PROBLEM_MEDIA_TYPE, Problem

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ComponentStatus",
    "Health",
    "HubState",
    "Problem",
    "Readiness",
    "create_app",
]
