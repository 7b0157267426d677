"""The gateway's own request/response models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ApiErrorDetail(BaseModel):
    code: str = Field(examples=["order_not_found"])
    message: str
    request_id: str | None = Field(alias="requestId")
    details: Any = None


class ApiError(BaseModel):
    """Every error the API answers, from the gateway or any service behind it."""

    error: ApiErrorDetail


class UpstreamHealth(BaseModel):
    status: Literal["ok", "down"]
    circuit: Literal["closed", "open", "half_open"]
    detail: str | None = None


class ApiHealth(BaseModel):
    """The gateway's view of the services behind it (informational: never makes it unready)."""

    status: Literal["ok", "degraded"]
    services: dict[str, UpstreamHealth]
