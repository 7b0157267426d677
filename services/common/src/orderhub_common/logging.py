"""Structured logs: one JSON object per line on stdout, through loguru.

Standard-library loggers (uvicorn, aiokafka, pymongo) are routed into loguru so every line in a
service's log has the same shape and carries the request and correlation ids.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from loguru import logger

from orderhub_common.context import correlation_id_var, request_id_var

if TYPE_CHECKING:
    from loguru import Message

_NOISY_LOGGERS = {"aiokafka": logging.WARNING, "pymongo": logging.WARNING, "httpx": logging.WARNING}


def _json_sink(service: str):
    def sink(message: Message) -> None:
        record = message.record
        line: dict[str, Any] = {
            "ts": record["time"].astimezone(UTC).isoformat(timespec="milliseconds"),
            "level": record["level"].name,
            "service": service,
            "logger": record["name"],
            "message": record["message"],
        }
        request_id = request_id_var.get()
        correlation_id = correlation_id_var.get()
        if request_id:
            line["requestId"] = request_id
        if correlation_id:
            line["correlationId"] = correlation_id
        line.update(record["extra"])
        if record["exception"] is not None:
            line["exception"] = "".join(
                __import__("traceback").format_exception(*record["exception"])
            ).rstrip()
        sys.stdout.write(json.dumps(line, default=str) + "\n")
        sys.stdout.flush()

    return sink


class _InterceptHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(service: str, level: str = "INFO") -> None:
    logger.remove()
    logger.add(_json_sink(service), level=level.upper(), backtrace=False, diagnose=False)
    # The root logger filters at the same level, so libraries' debug records are never built
    # only for loguru to drop them.
    logging.basicConfig(handlers=[_InterceptHandler()], level=level.upper(), force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi"):
        logging.getLogger(name).handlers = [_InterceptHandler()]
        logging.getLogger(name).propagate = False
    # Access lines come from our own middleware, with the request id and duration.
    logging.getLogger("uvicorn.access").disabled = True
    for name, noisy_level in _NOISY_LOGGERS.items():
        logging.getLogger(name).setLevel(noisy_level)


def utc_now() -> datetime:
    """Now, to the millisecond: the precision every store keeps and every API shows, so a value
    held in memory equals the same value read back."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
