"""Pieces every normalizer needs: money, phones, time, and one guard turning any malformation
into a ``NormalizationError`` that names the channel, the order and the reason."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from ingest.normalizers.errors import NormalizationError
from orderhub_common.events import ChannelOrder
from orderhub_common.text import cleaned

NativeOrder = Mapping[str, Any]
Normalizer = Callable[[NativeOrder], ChannelOrder]

_PHONE_NOISE = re.compile(r"[\s().-]")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def guarded(channel: str, id_field: str) -> Callable[[Normalizer], Normalizer]:
    """Whatever is wrong with a native order surfaces as one clear ``NormalizationError``."""

    def decorate(normalize: Normalizer) -> Normalizer:
        @functools.wraps(normalize)
        def wrapper(native: NativeOrder) -> ChannelOrder:
            external_id = native.get(id_field) if isinstance(native, Mapping) else None
            # Escaped, so an id carrying control characters cannot forge a log line.
            shown_id = (
                str(external_id).encode("unicode_escape").decode("ascii")
                if external_id is not None
                else None
            )
            try:
                return normalize(native)
            except NormalizationError:
                raise
            except KeyError as exc:
                raise NormalizationError(channel, shown_id, f"missing field {exc}") from exc
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                reason = f"invalid canonical order: {where}: {first['msg']}"
                raise NormalizationError(channel, shown_id, reason) from exc
            except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
                raise NormalizationError(channel, shown_id, f"malformed: {exc}") from exc

        return wrapper

    return decorate


def money(amount: str | int | float) -> float:
    """A decimal amount as the platforms send it (``"1899.00"``), exact to the paisa."""
    if isinstance(amount, bool):
        raise TypeError("money cannot be a boolean")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    return float(value.quantize(Decimal("0.01")))


def paise(amount: int) -> float:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"paise must be an integer, got {amount!r}")
    return amount / 100


def indian_phone(raw: Any) -> str:
    """E.164 for Indian numbers (``+919876543210``); other numbers keep their digits."""
    if not isinstance(raw, str):
        raise TypeError(f"phone must be text, got {raw!r}")
    cleaned = _PHONE_NOISE.sub("", raw)
    digits = cleaned.lstrip("+")
    if not digits.isdigit():
        raise ValueError(f"not a phone number: {raw!r}")
    if len(digits) == 10:
        return f"+91{digits}"
    if len(digits) == 12 and digits.startswith("91"):
        return f"+{digits}"
    if len(digits) == 11 and digits.startswith("0"):
        return f"+91{digits[1:]}"
    return f"+{digits}" if cleaned.startswith("+") else digits


def iso_time(value: str) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be ISO 8601 text, got {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return moment.astimezone(UTC)


def epoch_ms_time(value: int) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not an epoch-millisecond timestamp: {value!r}")
    return EPOCH + timedelta(milliseconds=value)


def identifier(value: Any) -> str:
    """An order id as the channel sent it: not cleaned (a cleaned id could name another order),
    so one holding a control character is refused by the canonical order."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an id, got {value!r}")
    return value.strip()


def text(value: Any) -> str:
    """Text the channel sent, cleaned of control and bidirectional characters (a channel cannot
    be answered with a 422, and a NUL would stall the stores downstream)."""
    if not isinstance(value, str) or not cleaned(value).strip():
        raise ValueError(f"expected non-empty text, got {value!r}")
    return cleaned(value).strip()
