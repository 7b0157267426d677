"""The crowd of the paced and fixed-rate steps: people with accounts of their own.

A crowd of ``CROWD_SIZE`` users, a fifth of them admins, each signed in once with its own
session, so the per-user limits apply to each as configured and an admin's own writes mark only
that admin's cached lists stale. The accounts are created on the first run and get a new
password on every run (never written anywhere but the run file, which is private and deleted
when Locust is done).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import asdict, dataclass

from bench.api import OrderHub
from bench.mix import CROWD_ADMIN_SHARE

CROWD_SIZE = 100
# At most this share of the per-user limit per person, so the crowd measures the stack, not
# the rate limiter (which answers 429 to one person asking more).
PER_USER_LIMIT_SHARE = 0.8
_EMAIL = "bench-crowd-{index:03d}@orderhub.local"


@dataclass(frozen=True)
class CrowdAccount:
    email: str
    password: str
    role: str


def crowd_size(rate: float, per_user_per_min: int) -> int:
    """People needed to offer ``rate`` req/s with none above its share of the per-user limit."""
    per_person = PER_USER_LIMIT_SHARE * per_user_per_min / 60
    return max(CROWD_SIZE, math.ceil(rate / per_person))


def roles(size: int) -> list[str]:
    """Every fifth person an admin: 20 of 100."""
    every = round(1 / CROWD_ADMIN_SHARE)
    return ["admin" if index % every == 0 else "viewer" for index in range(size)]


def ensure_crowd(hub: OrderHub, size: int) -> list[dict[str, str]]:
    """The crowd's accounts, created or given a fresh password (as the run file holds them)."""
    password = secrets.token_urlsafe(18)
    existing = {user["email"]: user for user in hub.admin_call("GET", "/users")["users"]}
    accounts = []
    for index, role in enumerate(roles(size)):
        email = _EMAIL.format(index=index)
        user = existing.get(email)
        if user is None:
            hub.admin_call("POST", "/users", {"email": email, "password": password, "role": role})
        else:
            change = {"password": password, "role": role, "active": True}
            hub.admin_call("PATCH", f"/users/{user['id']}", change)
        accounts.append(asdict(CrowdAccount(email, password, role)))
    return accounts
