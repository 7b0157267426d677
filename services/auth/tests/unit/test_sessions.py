from __future__ import annotations

import pytest

from auth.errors import InvalidRefreshTokenError
from auth.sessions import ClaimedRefreshToken, RefreshSessions, RefreshTokenRecord

pytestmark = pytest.mark.unit


class InMemoryRefreshTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, tuple[RefreshTokenRecord, bool]] = {}
        self.revoked: set[str] = set()

    async def save(self, digest: str, record: RefreshTokenRecord, ttl_s: int) -> None:
        self.tokens[digest] = (record, False)

    async def claim(self, digest: str) -> ClaimedRefreshToken | None:
        if digest not in self.tokens:
            return None
        record, used = self.tokens[digest]
        self.tokens[digest] = (record, True)
        return ClaimedRefreshToken(record=record, used_before=used)

    async def revoke_family(self, family_id: str, ttl_s: int) -> None:
        self.revoked.add(family_id)

    async def is_family_revoked(self, family_id: str) -> bool:
        return family_id in self.revoked

    async def peek(self, digest: str) -> RefreshTokenRecord | None:
        found = self.tokens.get(digest)
        return found[0] if found else None


@pytest.fixture
def sessions() -> RefreshSessions:
    return RefreshSessions(InMemoryRefreshTokenStore(), ttl_s=3600, max_lifetime_s=86_400)


async def rotate(sessions: RefreshSessions, token: str) -> str:
    return await sessions.continue_family(await sessions.redeem(token))


async def test_each_refresh_token_works_once_and_hands_over_to_its_successor(
    sessions: RefreshSessions,
) -> None:
    first = await sessions.start("user-1", 0)

    second = await rotate(sessions, first)
    third = await rotate(sessions, second)

    assert len({first, second, third}) == 3
    assert (await sessions.redeem(third)).user_id == "user-1"


async def test_reuse_kills_the_family_including_the_newest_token(
    sessions: RefreshSessions,
) -> None:
    first = await sessions.start("user-1", 0)
    second = await rotate(sessions, first)

    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem(first)
    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem(second)


async def test_reuse_leaves_other_families_alone(sessions: RefreshSessions) -> None:
    laptop = await sessions.start("user-1", 0)
    phone = await sessions.start("user-1", 0)
    await rotate(sessions, laptop)

    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem(laptop)
    assert (await sessions.redeem(phone)).user_id == "user-1"


async def test_ending_a_session_kills_the_token_and_its_family(sessions: RefreshSessions) -> None:
    first = await sessions.start("user-1", 0)
    second = await rotate(sessions, first)

    await sessions.end(second)

    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem(second)


async def test_unknown_tokens_are_refused_and_ending_them_is_harmless(
    sessions: RefreshSessions,
) -> None:
    await sessions.end("never-issued")

    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem("never-issued")


async def test_a_session_ends_at_its_absolute_lifetime_however_often_it_is_renewed() -> None:
    now = [1_000_000.0]
    sessions = RefreshSessions(
        InMemoryRefreshTokenStore(), ttl_s=3600, max_lifetime_s=7200, clock=lambda: now[0]
    )
    token = await sessions.start("user-1", 0)
    for _ in range(3):  # renewed every 30 minutes: each refresh token is well within its TTL
        now[0] += 1800
        token = await rotate(sessions, token)
    now[0] += 1800  # two hours after the sign-in

    with pytest.raises(InvalidRefreshTokenError):
        await sessions.redeem(token)
