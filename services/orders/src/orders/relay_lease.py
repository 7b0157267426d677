"""The lease one relay holds across replicas (``OrderRepository.take_relay_lease``), renewed
only once a third of it has passed.

Each relay asked the store for its lease every round and before every write-back send: on
FerretDB a quarter of the store commands a status move cost (four of sixteen). The holder
knows how long it holds the lease, so it renews only when less than two thirds of ``lease_s``
is left: whenever ``take_or_renew`` says yes, the lease runs for at least two thirds of
``lease_s`` more. The time is kept on the monotonic clock, taken before the store was asked, so a
slow answer or a change of the wall clock never stretches it; the store compares the wall clock,
as before.

A relay that stops lets its lease go (``release``): otherwise the next start of the service (a
deploy, a restart) would wait out the lease of the process it replaced, up to ``lease_s``,
before a single event or write-back went out.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from loguru import logger

from orderhub_common.logging import utc_now
from orders.repository import OrderRepository

# The part of the lease that may pass before it is renewed.
_RENEW_AFTER_SHARE = 1 / 3


class RelayLease:
    def __init__(
        self,
        repository: OrderRepository,
        relay: str,
        *,
        lease_s: float,
        owner_prefix: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._relay = relay
        self._lease_s = lease_s
        self._clock = clock
        self.owner = f"{owner_prefix}-{uuid.uuid4().hex[:12]}"
        self._renew_at = -math.inf

    async def take_or_renew(self) -> bool:
        """Whether this relay holds the lease for at least two thirds of ``lease_s`` more,
        taking or renewing it when it would not; False while another replica holds it."""
        asked_at = self._clock()
        if asked_at < self._renew_at:
            return True
        now = utc_now()
        held = await self._repository.take_relay_lease(
            self.owner, now, now + timedelta(seconds=self._lease_s), relay=self._relay
        )
        self._renew_at = asked_at + self._lease_s * _RENEW_AFTER_SHARE if held else -math.inf
        return held

    async def release(self) -> None:
        """Lets the lease go, if this relay holds it; a store that does not answer leaves it to
        run out."""
        self._renew_at = -math.inf
        try:
            await self._repository.release_relay_lease(self.owner, relay=self._relay)
        except Exception as exc:
            logger.warning(f"could not release the {self._relay} relay lease: {exc!r}")
