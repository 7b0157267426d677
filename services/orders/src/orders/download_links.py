"""Signed, short-lived download links for finished exports.

A link carries its expiry and an HMAC of the export's id and that expiry, so it works without a
token (a browser's plain download) but only for that file and only until it expires. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class DownloadLinks:
    secret: bytes
    ttl_s: int
    path_prefix: str = "/api/exports"

    def signature(self, export_id: str, expires: int) -> str:
        message = f"{export_id}:{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def link(self, export_id: str, *, now: float | None = None) -> tuple[str, int]:
        """The link and its expiry (seconds since the epoch)."""
        expires = int(now if now is not None else time.time()) + self.ttl_s
        query = urlencode({"expires": expires, "signature": self.signature(export_id, expires)})
        return f"{self.path_prefix}/{export_id}/download?{query}", expires

    def valid(
        self, export_id: str, expires: int, signature: str, *, now: float | None = None
    ) -> bool:
        if expires < (now if now is not None else time.time()):
            return False
        # As bytes: compare_digest refuses str with non-ASCII characters (a forged link's).
        return hmac.compare_digest(
            self.signature(export_id, expires).encode(), signature.encode("utf-8", "replace")
        )
