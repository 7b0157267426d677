"""The configuration reference, generated from every service's settings class.

    .venv/bin/python -m deploy.config_reference > docs/CONFIGURATION.md

``tests/test_config_reference.py`` fails when the committed page differs from what this prints,
so the page cannot drift from the code: change a setting, then run the command above.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from auth.settings import AuthSettings
from gateway.settings import GatewaySettings
from ingest.settings import IngestSettings
from mock_channels.settings import MockChannelsSettings
from orderhub_common.security import JwtVerifySettings
from orderhub_common.settings import KafkaSettings, MongoSettings, RedisSettings, ServiceSettings
from orders.settings import OrdersMigrationSettings, OrdersSettings

REPO = Path(__file__).resolve().parents[1]

# Compose/Kubernetes service name -> (its settings class, the workspace package).
SERVICES: dict[str, tuple[type[BaseSettings], str]] = {
    "auth": (AuthSettings, "auth"),
    "orders": (OrdersSettings, "orders"),
    "ingest": (IngestSettings, "ingest"),
    "gateway": (GatewaySettings, "gateway"),
    "mock-channels": (MockChannelsSettings, "mock_channels"),
}
# Commands that run as steps of their own (a Kubernetes Job, a compose one-shot) -> the same.
COMMANDS: dict[str, tuple[type[BaseSettings], str]] = {
    "orders-migrate": (OrdersMigrationSettings, "orders"),
}
# Whatever reads variables: the services and the commands.
READERS = {**SERVICES, **COMMANDS}

# The shared pieces, in the order the page lists them (orderhub_common.settings, .security).
MIXINS: list[tuple[type[BaseSettings], str]] = [
    (ServiceSettings, "Every service"),
    (KafkaSettings, "Kafka clients"),
    (MongoSettings, "MongoDB clients"),
    (RedisSettings, "Redis clients"),
    (JwtVerifySettings, "Token verification (every service that checks a JWT)"),
]


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: str
    constraints: str
    secret: bool
    description: str


def variable_name(field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    raise ValueError(f"a settings field without its variable: {field!r}")


def is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(is_secret(a) for a in get_args(annotation))


def secret_variables(settings_class: type[BaseSettings]) -> set[str]:
    """The variables of a settings class that hold secrets (``SecretStr`` fields)."""
    return {
        variable_name(f) for f in settings_class.model_fields.values() if is_secret(f.annotation)
    }


def variables_of(settings_class: type[BaseSettings]) -> set[str]:
    return {variable_name(f) for f in settings_class.model_fields.values()}


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation))
    if annotation is type(None):
        return "unset"
    if annotation is SecretStr:
        return "secret string"
    if annotation is Path:
        return "path"
    return str(getattr(annotation, "__name__", annotation))


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, Path):
        # The repository's own path differs on every clone: say where inside it.
        value = f"<repo>/{value.relative_to(REPO)}" if value.is_relative_to(REPO) else str(value)
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    return f"`{value}`"


_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "length ≥",
           "max_length": "length ≤", "pattern": "matches"}  # fmt: skip


def _constraints(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for attribute, word in _BOUNDS.items():
            bound = getattr(item, attribute, None)
            if bound is not None:
                parts.append(f"{word} `{bound}`")
    return ", ".join(parts)


def _variable(field: FieldInfo) -> Variable:
    return Variable(
        name=variable_name(field),
        type=_type_name(field.annotation),
        default=_default(field),
        constraints=_constraints(field),
        secret=is_secret(field.annotation),
        description=" ".join((field.description or "").split()),
    )


def _own_fields(settings_class: type[BaseSettings]) -> Iterator[tuple[str, FieldInfo]]:
    """The fields a service declares itself (or declares again: the gateway's proxies)."""
    shared = {}
    for mixin, _ in MIXINS:
        if issubclass(settings_class, mixin):
            shared.update(mixin.model_fields)
    for name, field in settings_class.model_fields.items():
        if name not in shared or variable_name(shared[name]) != variable_name(field):
            yield name, field


def _readers(variable: str) -> str:
    """The services that read ``variable`` (the gateway declares its own proxies and metrics
    addresses, so it does not read the services' variables of those fields)."""
    return ", ".join(name for name, (cls, _) in SERVICES.items() if variable in variables_of(cls))


def _table(rows: list[tuple[Variable, str]]) -> list[str]:
    lines = [
        "| variable | read by | type | default | allowed | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for var, readers in rows:
        name = f"`{var.name}`" + (" (secret)" if var.secret else "")
        lines.append(
            f"| {name} | {readers} | {var.type} | {var.default} | {var.constraints} "
            f"| {var.description} |"
        )
    return lines


def render() -> str:
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `.venv/bin/python -m deploy.config_reference > docs/CONFIGURATION.md`"
        " from the settings classes; do not edit by hand. -->",
        "",
        "Every variable every service reads, from its settings class (one pydantic-settings"
        ' class per service, `extra="forbid"`). Services read the process environment only;'
        " the local stack and compose load `.env` into it, Kubernetes sets it from the ConfigMap"
        " `orderhub-config` and the Secret `orderhub-secrets`. A bad value stops the service at"
        " start with one line per variable (exit 2). In `ORDERHUB_ENV=production` a service"
        " refuses to start while a secret still holds a development default of `.env.example`.",
        "",
        "Secrets (marked (secret)) are never logged or shown; their defaults below are the local"
        " stack's development values.",
        "",
    ]
    for mixin, title in MIXINS:
        out += [f"## {title}", ""]
        rows = [(_variable(f), _readers(variable_name(f))) for f in mixin.model_fields.values()]
        out += [*_table(rows), ""]
    for name, (cls, package) in READERS.items():
        out += [f"## {name} (`{package}.settings.{cls.__name__}`)", ""]
        if name in COMMANDS:
            out += [
                "A step run on its own before the services start (a Kubernetes Job, a compose "
                "one-shot, a step of `make up`). Besides these it reads `ORDERHUB_ENV`, "
                "`LOG_LEVEL` and `STARTUP_TIMEOUT_S` (how long it waits for its store).",
                "",
            ]
        rows = [(_variable(f), name) for _, f in _own_fields(cls)]
        out += [*_table(rows), ""]
    return "\n".join(out)


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
