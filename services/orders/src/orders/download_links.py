"""Signed, short-lived download links for finished exports.

A link works without a token (a browser's plain download), so everything it grants is in what
it signs: the export, the user it was made for (their id, role and access version, so a link of
a demoted or deactivated user stops with their tokens, see ``orderhub_common.revocation``), when
it was issued and when it expires. Its lifetime is capped here at verification too: a link
signed for longer than ``ttl_s`` (with a leaked key) is refused, whatever its signature. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from orderhub_common.security import Role
from orders.schemas import DownloadQuery

# Replicas' clocks may differ by this much: a link issued "in the future" by as much still works.
CLOCK_SKEW_S = 30


@dataclass(frozen=True)
class LinkHolder:
    """Whom a link was made for, as they stood when it was made."""

    user_id: str
    role: Role
    access_version: int


@dataclass(frozen=True)
class SignedLink:
    """A link's query, as the download route reads it."""

    holder: LinkHolder
    issued: int
    expires: int
    signature: str


@dataclass(frozen=True)
class DownloadLinks:
    secret: bytes
    ttl_s: int
    path_prefix: str = "/api/exports"

    def signature(self, export_id: str, holder: LinkHolder, issued: int, expires: int) -> str:
        # JSON, so no field's text can pass for a separator and shift the others.
        message = json.dumps(
            [export_id, holder.user_id, holder.role.value, holder.access_version, issued, expires]
        ).encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def link(
        self,
        export_id: str,
        holder: LinkHolder,
        *,
        now: float | None = None,
        not_after: int | None = None,
    ) -> tuple[str, int]:
        """The link and its expiry (seconds since the epoch), never later than ``not_after``
        (when the export's file is deleted)."""
        issued = int(now if now is not None else time.time())
        expires = issued + self.ttl_s
        if not_after is not None:
            expires = max(issued, min(expires, not_after))
        query = urlencode(
            {
                "user": holder.user_id,
                "role": holder.role.value,
                "version": holder.access_version,
                "issued": issued,
                "expires": expires,
                "signature": self.signature(export_id, holder, issued, expires),
            }
        )
        return f"{self.path_prefix}/{export_id}/download?{query}", expires

    def valid(self, export_id: str, link: SignedLink, *, now: float | None = None) -> bool:
        moment = now if now is not None else time.time()
        if not (
            link.issued <= moment + CLOCK_SKEW_S
            and moment <= link.expires <= moment + self.ttl_s + CLOCK_SKEW_S
            and link.expires - link.issued <= self.ttl_s
        ):
            return False
        expected = self.signature(export_id, link.holder, link.issued, link.expires)
        # As bytes: compare_digest refuses str with non-ASCII characters (a forged link's).
        return hmac.compare_digest(expected.encode(), link.signature.encode("utf-8", "replace"))


def signed_link(query: DownloadQuery) -> SignedLink | None:
    """The link a download names; None when it lacks a part (one made before links named their
    user) or names no role there is."""
    if query.user is None or query.version is None or query.issued is None:
        return None
    if query.role not in {role.value for role in Role}:
        return None
    return SignedLink(
        LinkHolder(query.user, Role(query.role), query.version),
        query.issued,
        query.expires,
        query.signature,
    )
