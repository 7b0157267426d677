from __future__ import annotations

import argon2
import pytest
from argon2 import PasswordHasher

from auth.passwords import Passwords

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


async def test_hashes_are_argon2id_salted_and_verify(passwords: Passwords) -> None:
    first, second = await passwords.hash("s3cret-pass"), await passwords.hash("s3cret-pass")

    assert first.startswith("$argon2id$")
    assert first != second
    assert "s3cret-pass" not in first
    assert await passwords.verify(first, "s3cret-pass")
    assert not await passwords.verify(first, "s3cret-pasS")


async def test_an_unknown_user_never_verifies(passwords: Passwords) -> None:
    assert not await passwords.verify(None, "")
    assert not await passwords.verify(None, "anything")


async def test_a_corrupt_hash_is_a_refusal_not_a_crash(passwords: Passwords) -> None:
    assert not await passwords.verify("not-a-hash", "anything")


async def test_weaker_old_hashes_are_flagged_for_rehash(passwords: Passwords) -> None:
    stronger = Passwords()

    assert stronger.needs_rehash(await passwords.hash("pw"))
    assert not stronger.needs_rehash(await stronger.hash("pw"))


async def test_hashes_meet_owasps_argon2id_minimum_and_older_parameters_are_made_again() -> None:
    production = Passwords()
    made = await production.hash("s3cret-pass")
    parameters = argon2.extract_parameters(made)
    older = PasswordHasher().hash("s3cret-pass")  # argon2-cffi's own default, used before

    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert not production.needs_rehash(made)
    assert production.needs_rehash(older)
    assert await production.verify(older, "s3cret-pass")
