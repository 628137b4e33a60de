"""Load ``polestar.yaml`` with ``POLESTAR_*`` environment overrides, reporting every problem.

Layers, highest first: environment variables (``POLESTAR_API__PORT=9000``:
prefix ``POLESTAR_``, nesting with ``__``), the YAML file, the defaults in
``HubConfig``. pydantic-settings does the layering; this module adds the
file's line and column to each problem it finds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from polestar.config.models import HubConfig
from polestar.config.yaml_document import PathKey, YamlDocument, YamlProblem, read_yaml_document
from polestar.errors import ConfigError

ENV_PREFIX = "POLESTAR_"
ENV_NESTED_DELIMITER = "__"


class _FileUnderEnvironment(BaseSettings, HubConfig):
    """``HubConfig`` whose init arguments (the file) are overridden by the environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_file=None,
        secrets_dir=None,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as the init arguments, so the environment is listed first to
        # win; no .env files or secrets folders: the hub reads exactly the two layers.
        return (env_settings, init_settings)


def load_config(path: Path | str | None = None) -> HubConfig:
    """The hub configuration from ``path`` (or defaults when None) under ``POLESTAR_*`` variables.

    Raises:
        ConfigError: listing every problem, each located as ``FILE:LINE:COL dotted.path``
            or ``environment POLESTAR_NAME``.
    """
    source = str(path) if path is not None else "environment and defaults"
    document = YamlDocument(data={})
    if path is not None:
        document = _read(Path(path))
    try:
        layered = _FileUnderEnvironment(**document.data)
    except SettingsError as exc:
        raise ConfigError(source, [("environment", str(exc))]) from None
    except ValidationError as exc:
        env_paths = environment_paths(os.environ)
        problems = [_locate(error, source, document, env_paths) for error in exc.errors()]
        raise ConfigError(source, problems) from None
    return HubConfig.model_validate(dict(layered))


def environment_paths(environ: Mapping[str, str]) -> dict[PathKey, str]:
    """Each ``POLESTAR_*`` variable's settings path, e.g. ``("api", "port")`` for POLESTAR_API__PORT."""
    found: dict[PathKey, str] = {}
    for name in environ:
        if name.upper().startswith(ENV_PREFIX):
            found[tuple(name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER))] = name
    return found


def _read(path: Path) -> YamlDocument:
    try:
        return read_yaml_document(path)
    except FileNotFoundError:
        raise ConfigError(str(path), [(str(path), "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), [(str(path), "is a folder, not a YAML file")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [(str(path), f"not UTF-8 text ({exc.reason})")]) from None
    except OSError as exc:
        raise ConfigError(str(path), [(str(path), exc.strerror or str(exc))]) from None
    except YamlProblem as exc:
        problems = [
            (f"{path}:{where[0]}:{where[1]}" if where else str(path), why) for where, why in exc.problems
        ]
        raise ConfigError(str(path), problems) from None


def _locate(
    error: ErrorDetails, source: str, document: YamlDocument, env_paths: dict[PathKey, str]
) -> tuple[str, str]:
    path = _settings_path(error["loc"], document, env_paths)
    dotted = ".".join(str(part) for part in path) or "(top level)"
    for env_path, name in env_paths.items():
        if path[: len(env_path)] == env_path:
            return (f"environment {name} ({dotted})", _reason(error))
    # An unknown key is wrong where the key is written; anything else, where its value is.
    where = document.key_positions.get(path) if error["type"] == "extra_forbidden" else None
    where = where or document.position(path)
    location = f"{source}:{where[0]}:{where[1]} {dotted}" if where else f"{source} {dotted}"
    return (location, _reason(error))


def _reason(error: ErrorDetails) -> str:
    # pydantic prefixes our own validators' messages with "Value error, "; the location says enough.
    return error["msg"].removeprefix("Value error, ")


def _settings_path(
    loc: tuple[int | str, ...], document: YamlDocument, env_paths: dict[PathKey, str]
) -> PathKey:
    """The path as a person wrote it: without the union tags pydantic adds (``bus.sqlite.path``)."""

    def written(candidate: PathKey) -> bool:
        return candidate in document.value_positions or any(
            p[: len(candidate)] == candidate for p in env_paths
        )

    path: list[str | int] = []
    for index, part in enumerate(loc):
        candidate = (*path, part)
        if index + 1 < len(loc) and not written(candidate) and written((*path, loc[index + 1])):
            continue
        path.append(part)
    return tuple(path)
