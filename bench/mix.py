"""The request mix of the load runs, and the order facts it draws its requests from.

One request per task, so the arrival rate of the paced runs is the request rate. Search
fragments, detail ids and status moves come from orders the run has seen in list responses, so
every search is one a person could type and every move is one the state machine allows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

CHANNELS = ("website", "amazon", "blinkit")
STATUSES = ("PLACED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
SORT_FIELDS = ("placedAt", "total", "status", "channel", "updatedAt")
# What an admin moves an order on to; the channel itself cancels and returns.
NEXT_ADMIN_MOVE = {"PLACED": "CONFIRMED", "CONFIRMED": "SHIPPED", "SHIPPED": "DELIVERED"}


@dataclass(frozen=True)
class RequestKind:
    name: str
    weight: int  # percent of all requests
    what: str


MIX: tuple[RequestKind, ...] = (
    RequestKind("list newest", 18, "GET /api/orders?limit=20 (the dashboard's first page)"),
    RequestKind("list by channel", 9, "GET /api/orders?channel=..."),
    RequestKind("list by status", 9, "GET /api/orders?status=..."),
    RequestKind(
        "list filtered and sorted", 7, "channel and one or two statuses, any sortBy/sortOrder"
    ),
    RequestKind("list next pages", 7, "page 2 and further, limit 20 or 50"),
    RequestKind("search customer name", 8, "search= the first letters of a first or last name"),
    RequestKind("search external id", 5, "search= 6-8 characters of an external id"),
    RequestKind("search email", 4, "search= the start of an email address"),
    RequestKind("detail", 14, "GET /api/orders/{id}"),
    RequestKind("stats", 8, "GET /api/orders/stats, half of them for one channel"),
    RequestKind("status move", 5, "PATCH /api/orders/{id}/status, the next allowed move"),
    RequestKind("token refresh", 5, "POST /api/auth/refresh (the refresh token rotates)"),
    RequestKind("login", 1, "POST /api/auth/login, admin or viewer"),
)


# The crowd: a fifth of its people are admins. Viewers read; admins read too and move orders on
# (a fifth of the crowd at 15% of their requests: 3% of all requests). Everyone refreshes their
# access token when it is due and now and then signs in again.
CROWD_ADMIN_SHARE = 0.2
VIEWER_MIX: tuple[RequestKind, ...] = (
    RequestKind("list newest", 20, MIX[0].what),
    RequestKind("list by channel", 10, MIX[1].what),
    RequestKind("list by status", 10, MIX[2].what),
    RequestKind("list filtered and sorted", 8, MIX[3].what),
    RequestKind("list next pages", 8, MIX[4].what),
    RequestKind("search customer name", 9, MIX[5].what),
    RequestKind("search external id", 6, MIX[6].what),
    RequestKind("search email", 4, MIX[7].what),
    RequestKind("detail", 16, MIX[8].what),
    RequestKind("stats", 7, MIX[9].what),
    RequestKind("token refresh", 1, "POST /api/auth/refresh, besides the refresh when due"),
    RequestKind("login", 1, "POST /api/auth/login: the person signs in again"),
)
ADMIN_MIX: tuple[RequestKind, ...] = (
    RequestKind("list newest", 16, MIX[0].what),
    RequestKind("list by channel", 8, MIX[1].what),
    RequestKind("list by status", 10, MIX[2].what),
    RequestKind("list filtered and sorted", 8, MIX[3].what),
    RequestKind("list next pages", 7, MIX[4].what),
    RequestKind("search customer name", 8, MIX[5].what),
    RequestKind("search external id", 6, MIX[6].what),
    RequestKind("search email", 3, MIX[7].what),
    RequestKind("detail", 14, MIX[8].what),
    RequestKind("stats", 3, MIX[9].what),
    RequestKind("status move", 15, MIX[10].what),
    RequestKind("token refresh", 1, "POST /api/auth/refresh, besides the refresh when due"),
    RequestKind("login", 1, "POST /api/auth/login: the person signs in again"),
)


def crowd_shares() -> dict[str, float]:
    """Each request kind's share of the crowd's requests (admins and viewers together)."""
    result: dict[str, float] = {}
    for role_share, kinds in ((CROWD_ADMIN_SHARE, ADMIN_MIX), (1 - CROWD_ADMIN_SHARE, VIEWER_MIX)):
        total = sum(kind.weight for kind in kinds)
        for kind in kinds:
            result[kind.name] = result.get(kind.name, 0.0) + role_share * kind.weight / total
    return result


def shares() -> dict[str, float]:
    """Each request kind's share of all requests, summing to 1."""
    total = sum(kind.weight for kind in MIX)
    return {kind.name: kind.weight / total for kind in MIX}


def next_admin_move(status: str) -> str | None:
    return NEXT_ADMIN_MOVE.get(status)


@dataclass(frozen=True)
class SeenOrder:
    id: str
    external_id: str
    status: str
    customer_name: str
    email: str | None

    @classmethod
    def from_api(cls, order: dict[str, Any]) -> SeenOrder:
        customer = order.get("customer") or {}
        return cls(
            id=order["id"],
            external_id=order["externalId"],
            status=order["status"],
            customer_name=customer.get("name") or "",
            email=customer.get("email"),
        )


class SeenOrders:
    """A bounded pool of orders seen in responses; the newest word on an order wins.

    ``take_movable`` takes the order it returns out of the pool until ``settle_move``, and
    responses that were on their way meanwhile (with the status from before the move) are
    ignored for it, so two simulated admins never race for one move.
    """

    def __init__(self, capacity: int, rng: random.Random) -> None:
        self._capacity = capacity
        self._rng = rng
        self._orders: dict[str, SeenOrder] = {}
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._moving: set[str] = set()

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, order: SeenOrder) -> None:
        if order.id in self._moving:
            return
        if order.id not in self._orders:
            if len(self._ids) >= self._capacity:
                self._remove(self._rng.choice(self._ids))
            self._index[order.id] = len(self._ids)
            self._ids.append(order.id)
        self._orders[order.id] = order

    def add_from_api(self, orders: list[dict[str, Any]]) -> None:
        for order in orders:
            self.add(SeenOrder.from_api(order))

    def random(self) -> SeenOrder | None:
        return self._orders[self._rng.choice(self._ids)] if self._ids else None

    def take_movable(self, attempts: int = 20) -> tuple[SeenOrder, str] | None:
        """A random order with an admin move left, and that move; None if none of ``attempts``
        distinct orders has one."""
        for order_id in self._rng.sample(self._ids, k=min(attempts, len(self._ids))):
            order = self._orders[order_id]
            move = next_admin_move(order.status)
            if move is not None:
                self._remove(order.id)
                self._moving.add(order.id)
                return order, move
        return None

    def settle_move(self, order_id: str, answer: SeenOrder | None) -> None:
        """Ends the move of ``order_id``; the order as the move's answer showed it, if any,
        goes back into the pool."""
        self._moving.discard(order_id)
        if answer is not None:
            self.add(answer)

    def _remove(self, order_id: str) -> None:
        position = self._index.pop(order_id)
        last = self._ids.pop()
        if last != order_id:
            self._ids[position] = last
            self._index[last] = position
        del self._orders[order_id]


def name_fragment(name: str, rng: random.Random) -> str:
    """The first 3 to 5 letters of one word of the name, as someone types it: ``shar``."""
    words = [word for word in name.split() if word] or ["a"]
    word = rng.choice(words)
    return word[: rng.randint(3, 5)].lower()


def external_id_fragment(external_id: str, rng: random.Random) -> str:
    """6 to 8 consecutive characters of the id, the way people paste part of one."""
    length = min(len(external_id), rng.randint(6, 8))
    start = rng.randint(0, len(external_id) - length)
    return external_id[start : start + length]


def email_fragment(email: str, rng: random.Random) -> str:
    """The start of the address, 4 characters up to its whole local part."""
    local = email.split("@", 1)[0]
    return email[: rng.randint(min(4, len(local)), len(local))] if local else email


def list_params(kind: str, rng: random.Random, seen: SeenOrders) -> dict[str, Any]:
    """The query of one list, search or stats request of ``kind``."""
    if kind == "list newest":
        return {"limit": 20}
    if kind == "list by channel":
        return {"channel": rng.choice(CHANNELS), "limit": 20}
    if kind == "list by status":
        return {"status": rng.choice(STATUSES), "limit": 20}
    if kind == "list filtered and sorted":
        return {
            "channel": rng.choice(CHANNELS),
            "status": rng.sample(STATUSES, k=rng.choice((1, 2))),
            "sortBy": rng.choice(SORT_FIELDS),
            "sortOrder": rng.choice(("asc", "desc")),
            "limit": 50,
        }
    if kind == "list next pages":
        return {"page": min(250, 2 + int(rng.expovariate(1 / 8))), "limit": rng.choice((20, 50))}
    if kind == "stats":
        return {"channel": rng.choice(CHANNELS)} if rng.random() < 0.5 else {}
    if kind.startswith("search "):
        return {"search": search_fragment(kind, rng, seen), "limit": 20}
    raise ValueError(f"{kind!r} is not a list, search or stats request")


def search_fragment(kind: str, rng: random.Random, seen: SeenOrders) -> str:
    order = seen.random()
    if order is None:
        return rng.choice(("sha", "priya", "40", "BLK"))
    if kind == "search external id":
        return external_id_fragment(order.external_id, rng)
    if kind == "search email" and order.email:
        return email_fragment(order.email, rng)
    return name_fragment(order.customer_name, rng)
