"""Hub configuration: ``polestar.yaml`` as pydantic models, loaded with environment overrides.

``HubConfig`` says what the file may contain; ``load_config`` reads a file,
applies ``POLESTAR_*`` environment variables over it, and raises
``polestar.errors.ConfigError`` naming every problem with its line and column.
"""

from polestar.config.loader import ENV_NESTED_DELIMITER, ENV_PREFIX, load_config
from polestar.config.models import (
    ApiConfig,
    AuditConfig,
    HubConfig,
    LogConfig,
    LogFormat,
    LogLevel,
    OrganisationConfig,
    Profile,
    StoreConfig,
    redact_url,
)

__all__ = [
    "ENV_NESTED_DELIMITER",
    "ENV_PREFIX",
    "ApiConfig",
    "AuditConfig",
    "HubConfig",
    "LogConfig",
    "LogFormat",
    "LogLevel",
    "OrganisationConfig",
    "Profile",
    "StoreConfig",
    "load_config",
    "redact_url",
]
