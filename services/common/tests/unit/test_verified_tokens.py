from datetime import UTC, datetime

import pytest

from orderhub_common.security import InvalidTokenError, Principal, Role
from orderhub_common.verified_tokens import VerifiedTokens

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Verifier:
    def __init__(self, expires_at: float) -> None:
        self.checks = 0
        self.expires_at = expires_at

    async def verify(self, token: str) -> Principal:
        self.checks += 1
        if token == "forged":
            raise InvalidTokenError("the access token is not valid")
        return Principal(token, Role.VIEWER, "j", datetime.fromtimestamp(self.expires_at, UTC))


def _tokens(verifier: Verifier, clock: Clock, size: int = 10) -> VerifiedTokens:
    return VerifiedTokens(verifier, ttl_s=30, max_size=size, clock=clock)  # type: ignore[arg-type]


async def test_a_verified_token_is_trusted_for_a_while_then_checked_again() -> None:
    clock, verifier = Clock(1000.0), Verifier(expires_at=5000.0)
    tokens = _tokens(verifier, clock)

    first = await tokens.verify("t1")
    clock.now += 29
    known = tokens.known("t1")
    clock.now += 2

    assert known == first
    assert tokens.known("t1") is None
    await tokens.verify("t1")
    assert verifier.checks == 2


async def test_a_token_is_never_trusted_past_its_expiry() -> None:
    clock, verifier = Clock(1000.0), Verifier(expires_at=1010.0)
    tokens = _tokens(verifier, clock)
    await tokens.verify("t1")

    clock.now = 1010.0

    assert tokens.known("t1") is None


async def test_a_token_that_fails_is_not_remembered() -> None:
    clock, verifier = Clock(1000.0), Verifier(expires_at=5000.0)
    tokens = _tokens(verifier, clock)

    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            await tokens.verify("forged")

    assert verifier.checks == 2
    assert tokens.known("forged") is None


async def test_the_memory_is_bounded_and_drops_the_oldest_first() -> None:
    clock, verifier = Clock(1000.0), Verifier(expires_at=5000.0)
    tokens = _tokens(verifier, clock, size=2)

    for token in ("t1", "t2", "t3"):
        await tokens.verify(token)

    assert tokens.known("t1") is None
    assert tokens.known("t2") is not None
    assert tokens.known("t3") is not None


async def test_a_full_memory_drops_an_expired_token_before_a_live_one() -> None:
    clock, verifier = Clock(1000.0), Verifier(expires_at=5000.0)
    tokens = _tokens(verifier, clock, size=2)
    await tokens.verify("long-lived")
    verifier.expires_at = 1010.0
    await tokens.verify("short-lived")

    clock.now = 1015.0
    verifier.expires_at = 5000.0
    await tokens.verify("new")

    assert tokens.known("long-lived") is not None
    assert tokens.known("new") is not None
    assert verifier.checks == 3
