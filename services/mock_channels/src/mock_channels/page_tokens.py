"""Opaque page tokens (Shopify ``page_info``, Amazon ``NextToken``, Blinkit ``cursor``).

A token carries the filter of the first page and the position the last page ended at, so a
client only passes the token back, as the real platforms require.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from mock_channels.store import FeedOrder, FeedPosition
from orderhub_common.errors import DomainError


class InvalidPageTokenError(DomainError):
    code = "invalid_page_token"


def encode_page_token(since: datetime | None, position: FeedPosition) -> str:
    state = {
        "since": since.isoformat() if since else None,
        "at": position.at.isoformat(),
        "id": position.external_id,
        "by": position.by.value,
    }
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[datetime | None, FeedPosition]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
        since = datetime.fromisoformat(state["since"]) if state["since"] else None
        position = FeedPosition(
            datetime.fromisoformat(state["at"]), str(state["id"]), FeedOrder(state["by"])
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidPageTokenError("the page token is not one this feed issued") from exc
    return since, position
