"""Status write-back: an admin's status move, sent to the order's channel in its native API.

The write-back outbox (``channel_write_backs``) works like the order-event outbox
(``outbox_relay.py``): the request is written before the order change that asks for it, keyed by
that change's ``order.status_changed`` event id, and is sent only once the order document shows
the change (the event id is in its history); a request whose change never happened is dropped
after ``abandoned_after_s``. Two ways out:

- the fast way: the service hands the relay each change it has just written (``confirm``), and
  the relay sends its request reading neither the outbox nor the order (the write showed the
  change, and the order as written is what the answer is recorded on). Only a request with no
  earlier one of its order still waiting goes this way: the order as the change found it says
  so (its ``writeBack`` was not pending), so no request overtakes an earlier one of its order;
- the sweep: every ``sweep_interval_s``, and soon after a change that could not go the fast way,
  it reads what is due: another replica's requests, a crashed writer's, and those a failed send
  left for later. A request waiting in the fast way's queue is left to it. Were a sweep to send
  one the fast way then sends too (a write the sweep saw before the writer had queued it), the
  idempotency key makes the second a repeat.

Sending: each channel has its own circuit breaker, and each send is tried a few times with
exponential backoff and jitter (tenacity) inside it; a send that still fails leaves the request
for a later round (backing off up to ``max_backoff_s``), and while a channel's circuit is open
its requests wait without being tried, so an outage of one channel never holds up another. The
event id goes as the channel's idempotency key: a request sent twice (a timeout after the
channel applied it, a crash before the request was removed) is applied once. Amazon takes no
idempotency key; its operations set a state, so a repeat is the same change
(``amazon_write_back``).

With several replicas one relay sends at a time: the holder of the write-back relay lease (the
outbox relay's lease mechanism, ``relay_lease``, under its own name), held at the start of each
round and before each send, so a send starts only while its relay holds the lease for at least
two thirds of ``lease_s`` more; a holder that dies is replaced once its lease runs out. A
replica that does not hold the lease drops what it was handed: the holder's sweep sends it. Only a
single send that outlasts the lease (longer than two thirds of ``lease_s``, retries included)
can overlap its successor's; the idempotency key covers that.

Each order's requests go in the order they were made, one at a time. The channel's answer is
recorded on the order (``writeBack``: acknowledged, or rejected with the channel's reason) and
announced as ``order.write_back_answered``; a rejection is also logged as an error and counted
(``orders_write_backs_total{outcome="rejected"}``), which is what the alert watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
from circuitbreaker import CircuitBreaker, CircuitBreakerError
from loguru import logger

from orderhub_common.circuits import CircuitGauges, CircuitState
from orderhub_common.events import Channel, OrderStatus, WriteBackState
from orderhub_common.guarded_calls import Retries, call_guarded
from orderhub_common.logging import utc_now
from orderhub_common.shopify import ShopifyAdminClient, ShopifyError
from orderhub_common.workers import run_rounds
from orders import metrics
from orders.amazon_write_back import AmazonCannotError, AmazonShipments, AmazonUnansweredError
from orders.relay_lease import RelayLease
from orders.repository import OrderChange, OrderRepository, StoredOrder, WriteBackRequest
from orders.service import OrderService
from orders.shopify_write_back import ShopifyRefusedError, write_back

_MAX_REASON_CHARS = 500
_PENDING_GAUGE_INTERVAL_S = 15.0
_REJECTIONS = {400, 404, 409, 410, 422}

# Each channel's native words for the canonical statuses a seller may send (the website's are
# Shopify's GraphQL mutations: shopify_write_back.py; Amazon's its shipment updates:
# amazon_write_back.py).
_BLINKIT_STATUS = {
    OrderStatus.CONFIRMED: "accepted",
    OrderStatus.SHIPPED: "dispatched",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.RETURNED: "returned",
}


@dataclass(frozen=True)
class NativeUpdate:
    """One HTTP request of a channel's status-update API."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def native_update(request: WriteBackRequest) -> NativeUpdate:
    """The request in its channel's own shape, with the idempotency key the channel honours
    (Blinkit's; the website's goes through ``shopify_write_back``, Amazon's through
    ``amazon_write_back``)."""
    shipment = request.shipment
    external_id = request.external_id
    if request.channel == Channel.WEBSITE:
        raise ValueError("the website writes back through Shopify's mutations")
    if request.channel == Channel.AMAZON:
        raise ValueError("Amazon writes back through amazon_write_back")
    body: dict[str, Any] = {"status": _BLINKIT_STATUS[request.status]}
    if shipment is not None:
        body["rider"] = {"partner": shipment.carrier, "awb": shipment.tracking_number}
    return NativeUpdate(
        "PATCH",
        f"/blinkit/v1/orders/{external_id}/status",
        {"X-Idempotency-Key": request.key},
        body,
    )


class ChannelWriteError(Exception):
    """The channel did not answer, or failed: worth trying again later."""


class ChannelRejectedError(Exception):
    """The channel answered that it will not make this move: trying again changes nothing."""


def rejection_reason(response: httpx.Response) -> str:
    """The channel's own explanation, whichever of their error shapes it uses."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:_MAX_REASON_CHARS]}"
    reason: Any = body
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:  # SP-API
            reason = body["errors"][0].get("message", body["errors"][0])
        elif isinstance(body.get("errors"), dict):  # Shopify
            reason = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in body["errors"].items())
        elif isinstance(body.get("error"), dict):  # Blinkit, and Order Hub's own shape
            reason = body["error"].get("message", body["error"])
    return f"HTTP {response.status_code}: {str(reason)[:_MAX_REASON_CHARS]}"


class ChannelWriter:
    """Sends native status updates, one breaker per channel, retrying within each send."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        failure_threshold: int = 3,
        recovery_s: float = 10.0,
        attempts: int = 3,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 2.0,
        shopify: ShopifyAdminClient | None = None,
        amazon: AmazonShipments | None = None,
    ) -> None:
        """``shopify``: the website's Admin GraphQL client (its own base URL and token);
        ``amazon``: the Selling Partner API's shipment updates."""
        self._client = client
        self._shopify = shopify
        self._amazon = amazon
        self._retries = Retries(attempts, retry_initial_s, retry_max_s)
        self.breakers = {
            channel: CircuitBreaker(
                failure_threshold=failure_threshold,
                recovery_timeout=recovery_s,
                expected_exception=ChannelWriteError,
                name=f"orders-write-back-{channel}",
            )
            for channel in Channel
        }

    def circuit(self, channel: str) -> CircuitState:
        return CircuitState(self.breakers[Channel(channel)].state)

    async def send(self, request: WriteBackRequest) -> None:
        """Returns once the channel acknowledged; raises ``ChannelRejectedError`` when it
        refused, ``ChannelWriteError`` or ``CircuitBreakerError`` when it may work later."""
        await call_guarded(
            self.breakers[Channel(request.channel)],
            self._retries,
            lambda exc: isinstance(exc, ChannelWriteError),
            lambda: self._send_once(request),
        )

    async def close(self) -> None:
        await self._client.aclose()
        if self._shopify is not None:
            await self._shopify.client.aclose()
        if self._amazon is not None:
            await self._amazon.close()

    async def _send_once(self, request: WriteBackRequest) -> None:
        if request.channel == Channel.WEBSITE:
            await self._send_to_shopify(request)
            return
        try:
            response = await self._request(request)
        except httpx.HTTPError as exc:
            raise ChannelWriteError(f"{request.channel} did not answer: {exc!r}") from exc
        except AmazonUnansweredError as exc:
            raise ChannelWriteError(f"{request.channel} did not answer: {exc}") from exc
        except AmazonCannotError as exc:
            raise ChannelRejectedError(str(exc)) from exc
        if response.is_success:
            return
        if response.status_code in _REJECTIONS:
            raise ChannelRejectedError(rejection_reason(response))
        raise ChannelWriteError(rejection_reason(response))

    async def _send_to_shopify(self, request: WriteBackRequest) -> None:
        if self._shopify is None:
            raise ChannelWriteError("no Shopify client is configured for the website")
        try:
            await write_back(self._shopify, request.external_id, request.status, request.shipment)
        except ShopifyRefusedError as refused:
            raise ChannelRejectedError(f"Shopify: {str(refused)[:_MAX_REASON_CHARS]}") from refused
        except ShopifyError as exc:
            # A refused token is fixed by an operator, then the same move goes through: retried
            # later (the breaker opens meanwhile), as a channel that does not answer.
            if exc.retryable or exc.status in {401, 403}:
                raise ChannelWriteError(f"Shopify: {exc.reason}") from exc
            raise ChannelRejectedError(f"Shopify: {exc.reason[:_MAX_REASON_CHARS]}") from exc

    async def _request(self, request: WriteBackRequest) -> httpx.Response:
        if request.channel == Channel.AMAZON:
            if self._amazon is None:
                raise ChannelWriteError("no Amazon connection is configured")
            return await self._amazon.send(request)
        update = native_update(request)
        return await self._client.request(
            update.method, update.path, headers=update.headers, json=update.body
        )


# A request, and the order showing its move when the relay knows it without reading (the
# fast way: the order as the write that asked for it left it).
ToSend = tuple[WriteBackRequest, StoredOrder | None]


class WriteBackRelay:
    def __init__(
        self,
        repository: OrderRepository,
        service: OrderService,
        writer: ChannelWriter,
        *,
        sweep_interval_s: float = 2.0,
        batch_size: int = 200,
        max_backoff_s: float = 30.0,
        abandoned_after_s: float = 300.0,
        lease_s: float = 30.0,
    ) -> None:
        self._repository = repository
        self._service = service
        self._writer = writer
        self._lease = RelayLease(
            repository, "write_back", lease_s=lease_s, owner_prefix="write-back"
        )
        self._sweep_interval_s = sweep_interval_s
        self._batch_size = batch_size
        self._max_backoff_s = max_backoff_s
        self._abandoned_after = timedelta(seconds=abandoned_after_s)
        self._wake = asyncio.Event()
        self._pending_counted_at = -_PENDING_GAUGE_INTERVAL_S
        self._circuit_gauges = {
            channel: CircuitGauges(channel.value, metrics.WRITE_BACK_CIRCUIT) for channel in Channel
        }
        self._confirmed: list[tuple[WriteBackRequest, StoredOrder]] = []
        # At start, whatever an earlier process left waits in the store.
        self._sweep_soon = True
        self._swept_at = -sweep_interval_s

    def confirm(self, change: OrderChange) -> None:
        """Called right after a write stored ``change``: its write-back, if it asks for one,
        goes out now, the fast way, when no earlier one of the order may still be waiting."""
        if change.write_back is None:
            return
        held = change.stored.order.write_back
        if held is not None and held.state == WriteBackState.PENDING:
            self.wake()
            return
        self._confirmed.append((change.write_back, change.applied()))
        self._wake.set()

    def wake(self) -> None:
        """Look in the store now: a write asked for a write-back the relay was not handed."""
        self._sweep_soon = True
        self._wake.set()

    async def run(self) -> None:
        """Sends due write-backs until cancelled; the lease and the channels' connections
        go with it."""
        try:
            await run_rounds(
                self._round, name="write-back", interval_s=self._sweep_interval_s, wake=self._wake
            )
        finally:
            try:
                await self._lease.release()
            finally:  # a stop that cancels the release again still closes the connections
                await self._writer.close()

    async def _round(self) -> bool:
        """One round: the fast way's requests, then a sweep when one is due; whether there may
        be more to send at once. When the store did not answer, the next round tries again."""
        try:
            await self.send_confirmed()
            if self._sweep_soon or self._sweep_due():
                await self.send_due()
            return bool(self._confirmed or self._sweep_soon)
        finally:
            with contextlib.suppress(Exception):
                await self._refresh_gauges()

    async def send_confirmed(self) -> int:
        """Sends the requests handed over by ``confirm``, per channel one after another and
        the channels side by side; returns how many the channels answered. One that fails
        stays in the store for the sweep, its order's later requests behind it."""
        taken, self._confirmed = self._confirmed, []
        if not taken or not await self._lease.take_or_renew():
            return 0  # another replica's relay sends them, from its sweep
        return await self._send_by_channel(taken)

    async def send_due(self) -> int:
        """One sweep: each order's oldest request, if due, per channel one after another and
        the channels side by side; returns how many the channels answered. Sends nothing
        while another replica's relay holds the lease."""
        self._swept_at = time.monotonic()
        if not await self._lease.take_or_renew():
            self._sweep_soon = False
            return 0
        now = utc_now()
        pending = await self._repository.pending_write_backs(self._batch_size)
        self._sweep_soon = False
        first_per_order: dict[str, WriteBackRequest] = {}
        for request in pending:  # oldest first
            first_per_order.setdefault(request.order_id, request)
        queued = {request.key for request, _ in self._confirmed}
        answered = await self._send_by_channel(
            (r, None)
            for r in first_per_order.values()
            if r.next_attempt_at <= now and r.key not in queued
        )
        # An answered request may have had its order's next one behind it: look again at once.
        self._sweep_soon = self._sweep_soon or answered > 0
        return answered

    def _sweep_due(self) -> bool:
        return time.monotonic() - self._swept_at >= self._sweep_interval_s

    async def _send_by_channel(self, requests: Iterable[ToSend]) -> int:
        """Sends each channel's requests in turn, the channels side by side; returns how many
        the channels answered."""
        by_channel: dict[str, list[ToSend]] = {}
        for request, known in requests:
            by_channel.setdefault(request.channel, []).append((request, known))
        answered = await asyncio.gather(*(self._send_channel(rs) for rs in by_channel.values()))
        return sum(answered)

    async def _send_channel(self, requests: list[ToSend]) -> int:
        """Sends one channel's requests in turn, each with the order showing its move (read
        here when not known)."""
        answered = 0
        for request, known in requests:
            stored = known or await self._change_was_made(request)
            if stored is None:
                continue
            if not await self._lease.take_or_renew():
                return answered  # taken over (this round outlasted the lease): the holder sends
            try:
                await self._writer.send(request)
            except CircuitBreakerError:
                return answered  # the channel is out: its requests wait, untried
            except ChannelWriteError as exc:
                metrics.WRITE_BACKS.labels(request.channel, "failed").inc()
                await self._postpone(request, str(exc))
                continue
            except ChannelRejectedError as exc:
                await self._answered(request, stored, WriteBackState.REJECTED, str(exc))
                answered += 1
                continue
            await self._answered(request, stored, WriteBackState.ACKNOWLEDGED, None)
            answered += 1
        return answered

    async def _change_was_made(self, request: WriteBackRequest) -> StoredOrder | None:
        """The order, if it shows the move (send it); None if not yet or never (after
        ``abandoned_after_s`` the request is dropped)."""
        stored = await self._repository.get(request.order_id)
        if stored is not None and request.key in stored.announced:
            return stored
        if utc_now() - request.created_at > self._abandoned_after:
            await self._repository.remove_write_back(request.key)
            logger.info(f"write-back {request.key} dropped: its move was never made")
        return None

    async def _postpone(self, request: WriteBackRequest, error: str) -> None:
        attempts = request.attempts + 1
        backoff = min(self._max_backoff_s, 0.5 * 2**attempts)
        logger.bind(channel=request.channel, order=request.order_id).warning(
            f"write-back to {request.channel} failed (attempt {attempts}), again in "
            f"{backoff:.0f}s: {error}"
        )
        await self._repository.postpone_write_back(
            replace(request, attempts=attempts, last_error=error[:_MAX_REASON_CHARS]),
            utc_now() + timedelta(seconds=backoff),
        )

    async def _answered(
        self,
        request: WriteBackRequest,
        stored: StoredOrder,
        state: WriteBackState,
        error: str | None,
    ) -> None:
        outcome = "acknowledged" if state == WriteBackState.ACKNOWLEDGED else "rejected"
        metrics.WRITE_BACKS.labels(request.channel, outcome).inc()
        if state == WriteBackState.REJECTED:
            logger.bind(channel=request.channel, order=request.order_id).error(
                f"{request.channel} rejected the move of {request.order_id} to "
                f"{request.status}: {error}"
            )
        await self._service.record_write_back(
            request.order_id,
            request.key,
            state,
            attempts=request.attempts + 1,
            error=error,
            known=stored,
        )
        await self._repository.remove_write_back(request.key)

    async def _refresh_gauges(self) -> None:
        for channel, gauges in self._circuit_gauges.items():
            gauges.export(self._writer.circuit(channel.value), time.time())
        if time.monotonic() - self._pending_counted_at >= _PENDING_GAUGE_INTERVAL_S:
            self._pending_counted_at = time.monotonic()
            metrics.WRITE_BACKS_PENDING.set(await self._repository.count_write_backs())
