from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def random_ip() -> str:
    return f"192.0.{random.randint(0, 255)}.{random.randint(1, 254)}"


async def test_both_bootstrap_users_sign_in(sign_in: Any, admin: Any, viewer: Any) -> None:
    admin_session = await sign_in(admin)
    viewer_session = await sign_in(viewer)

    assert set(admin_session) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}
    assert admin_session["tokenType"] == "Bearer"
    assert admin_session["expiresIn"] == 900
    assert admin_session["user"]["email"] == admin.email
    assert admin_session["user"]["role"] == "admin"
    assert set(admin_session["user"]) == {"id", "email", "role", "displayName"}
    assert viewer_session["user"]["role"] == "viewer"


async def test_email_case_and_spaces_do_not_matter(client: httpx.AsyncClient, admin: Any) -> None:
    response = await client.post(
        "/auth/login", json={"email": f"  {admin.email.upper()} ", "password": admin.password}
    )

    assert response.status_code == 200
    assert response.json()["user"]["email"] == admin.email


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, admin: Any, database: str
) -> None:
    wrong_password = await client.post(
        "/auth/login", json={"email": admin.email, "password": "not-the-password"}
    )
    unknown_user = await client.post(
        "/auth/login", json={"email": f"nobody-{database}@orderhub.local", "password": "x"}
    )

    assert wrong_password.status_code == unknown_user.status_code == 401
    refused = [r.json()["error"] for r in (wrong_password, unknown_user)]
    assert refused[0]["code"] == refused[1]["code"] == "invalid_credentials"
    assert refused[0]["message"] == refused[1]["message"]


async def test_me_answers_who_is_signed_in(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    session = await sign_in(viewer)

    response = await client.get(
        "/auth/me", headers={"Authorization": f"Bearer {session['accessToken']}"}
    )

    assert response.status_code == 200
    assert response.json() == {"user": session["user"]}


async def test_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "a@b.c"}, {"email": "a@b.c", "password": "x" * 2000}, {"email": 3}],
    ids=["empty", "no-password", "huge-password", "not-a-string"],
)
async def test_malformed_sign_in_is_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/auth/login", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def _own_user(client: httpx.AsyncClient, session: dict[str, Any], name: str) -> str:
    email = f"{name}-{random.randint(0, 10**9)}@orderhub.local"
    created = await client.post(
        "/users",
        json={"email": email, "password": "correct-horse-battery", "role": "viewer"},
        headers={"Authorization": f"Bearer {session['accessToken']}"},
    )
    assert created.status_code == 201, created.text
    return email


async def _attempt(app: Any, ip: str, email: str, password: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
        return await client.post("/auth/login", json={"email": email, "password": password})


async def test_repeated_failures_from_one_address_make_that_address_wait_with_retry_after(
    client: httpx.AsyncClient, auth_app: Any, sign_in: Any, admin: Any
) -> None:
    email = await _own_user(client, await sign_in(admin), "delayed")
    guesser = random_ip()
    # Five free failures, then the sixth sets the first wait (1 s) for the next try.
    for _ in range(6):
        assert (await _attempt(auth_app, guesser, email, "guess-123")).status_code == 401

    delayed = await _attempt(auth_app, guesser, email, "correct-horse-battery")

    assert delayed.status_code == 429
    assert delayed.json()["error"]["code"] == "too_many_attempts"
    assert int(delayed.headers["Retry-After"]) >= 1


async def test_a_third_party_guessing_never_locks_the_owner_out(
    client: httpx.AsyncClient, auth_app: Any, sign_in: Any, admin: Any
) -> None:
    email = await _own_user(client, await sign_in(admin), "targeted")
    attacker = random_ip()
    answers = {
        (await _attempt(auth_app, attacker, email, f"guess-{n}")).status_code for n in range(12)
    }

    owner = await _attempt(auth_app, random_ip(), email, "correct-horse-battery")

    assert answers == {401, 429}  # the attacker is slowed down ...
    assert owner.status_code == 200  # ... the owner, elsewhere, is not


async def test_failures_from_one_address_are_limited_across_accounts(
    client: httpx.AsyncClient, database: str
) -> None:
    answers = [
        (
            await client.post(
                "/auth/login",
                json={"email": f"spray-{n}-{database}@orderhub.local", "password": "guess"},
            )
        ).status_code
        for n in range(21)
    ]

    assert answers == [401] * 20 + [429]


async def test_an_address_that_guessed_unknown_accounts_still_signs_in_with_a_right_password(
    auth_app: Any, database: str, admin: Any, sign_in: Any, client: httpx.AsyncClient
) -> None:
    """One script behind an office NAT must not lock the office out (the address's admin)."""
    email = await _own_user(client, await sign_in(admin), "office")
    office = random_ip()
    for n in range(30):
        unknown = f"throwaway-{n}-{database}@orderhub.local"
        await _attempt(auth_app, office, unknown, "guess")

    wrong = await _attempt(auth_app, office, email, "not-the-password")
    right = await _attempt(auth_app, office, admin.email, admin.password)

    # Over its budget the address learns nothing from a failure (429, whether or not the
    # account exists), but a right password still signs in.
    assert wrong.status_code == 429
    assert right.status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(
    auth_app: Any, database: str
) -> None:
    gateway = httpx.ASGITransport(app=auth_app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=gateway, base_url="http://auth") as via_gateway:

        async def attempt(client_address: str, n: int) -> int:
            response = await via_gateway.post(
                "/auth/login",
                json={"email": f"proxied-{n}-{database}@orderhub.local", "password": "guess"},
                headers={"X-Forwarded-For": client_address},
            )
            return response.status_code

        attacker, bystander = random_ip(), random_ip()
        from_attacker = [await attempt(attacker, n) for n in range(21)]
        from_bystander = await attempt(bystander, 21)

    assert from_attacker == [401] * 20 + [429]
    assert from_bystander == 401
