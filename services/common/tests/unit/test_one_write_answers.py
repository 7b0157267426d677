"""A response's head leaves with its body's first bytes, and never waits for them longer than
one turn of the event loop (a stream that has nothing to send yet)."""

from __future__ import annotations

import asyncio

import pytest

from orderhub_common.head_limit import HeadWithBody

pytestmark = pytest.mark.unit


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


async def test_a_head_and_its_body_sent_together_leave_in_one_write() -> None:
    transport = RecordingTransport()
    answer = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]

    answer.write(b"HTTP/1.1 200 OK\r\n\r\n")
    answer.write(b'{"ok": true}')
    await asyncio.sleep(0)

    assert transport.writes == [b'HTTP/1.1 200 OK\r\n\r\n{"ok": true}']


async def test_a_stream_gets_its_head_at_the_next_turn_of_the_loop_and_its_chunks_as_sent() -> None:
    transport = RecordingTransport()
    answer = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]

    answer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    assert transport.writes == []
    await asyncio.sleep(0)
    answer.write(b"5\r\nhello\r\n")

    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n",
    ]


async def test_closing_sends_a_held_head_first_and_a_closed_connection_gets_nothing() -> None:
    transport = RecordingTransport()
    answer = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
    answer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    answer.close()
    gone = RecordingTransport()
    unread = HeadWithBody(gone, asyncio.get_running_loop())  # type: ignore[arg-type]
    unread.write(b"HTTP/1.1 200 OK\r\n\r\n")
    gone.closed = True  # the caller hung up
    await asyncio.sleep(0)

    assert (transport.writes, transport.closed) == ([b"HTTP/1.1 204 No Content\r\n\r\n"], True)
    assert gone.writes == []
