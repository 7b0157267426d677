"""The request head cap at the socket: uvicorn's httptools protocol keeps a header whole, however
large, before the app sees it (an 8 MB header was read in full before the 431). This protocol
counts a request's head as its bytes arrive and refuses it (431, connection closed) once it
passes the limit, so a huge header costs the server no more than the limit.

The limit is uvicorn's ``h11_max_incomplete_event_size`` (h11's own cap on a head, which h11
would enforce), set by ``serve`` from ``MAX_REQUEST_HEADER_BYTES``; the app's
``RequestLimitsMiddleware`` answers the same limit for callers that reach it without the socket
(an app under test).

The same protocol sends a response's head and the first bytes of its body in one write.
uvicorn writes the head as the app starts the response and the body as it sends it: two
writes, so the reader (the gateway, a service's caller) was woken twice for one answer. On this
project's hosts a socket write to a local peer cost 50 to 150 µs of CPU between the two ends.
The head is held until the body's first bytes, or until the loop's next turn when the app sends
no body at once (a stream), so no answer waits on the holding.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from orderhub_common.errors import error_body

H11_DEFAULT_HEAD_BYTES = 16 * 1024  # h11's own default, when the option is unset


class HeadLimitedProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_limit: int = self.config.h11_max_incomplete_event_size or H11_DEFAULT_HEAD_BYTES
        # Bytes the current request's head may still take; None once its head is complete.
        self._head_room: int | None = self._head_limit

    def data_received(self, data: bytes) -> None:
        while data:
            room = self._head_room
            if room is None or len(data) <= room:
                if room is not None:
                    self._head_room = room - len(data)
                super().data_received(data)
                return
            # More than the head may take: feed only what it may, and see if the head ended.
            self._head_room = 0
            if room:
                super().data_received(data[:room])
            if self.transport.is_closing():
                return
            if self._head_room == 0:
                self._refuse_head()
                return
            data = data[room:]

    def on_headers_complete(self) -> None:
        self._head_room = None
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:
            self.cycle.transport = HeadWithBody(self.transport, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._head_room = self._head_limit
        super().on_message_complete()

    def _refuse_head(self) -> None:
        body = json.dumps(
            error_body(
                "headers_too_large",
                f"the request headers are larger than {self._head_limit} bytes",
            )
        ).encode()
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[431],
                    b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()


class HeadWithBody:
    """One response's transport: its first write (the head) leaves with the second (the
    body's first bytes), or alone at the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        if self._first:
            self._first = False
            self._head = data
            self._loop.call_soon(self._flush)
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def _flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)


def head_limited_server_options(max_head_bytes: int) -> dict[str, Any]:
    """uvicorn options that cap a request head at ``max_head_bytes``, whichever protocol runs."""
    return {"http": HeadLimitedProtocol, "h11_max_incomplete_event_size": max_head_bytes}
