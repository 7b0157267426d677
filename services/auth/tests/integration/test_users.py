from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['accessToken']}"}


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:8]}@orderhub.local"


@pytest.fixture
async def admin_session(sign_in: Any, admin: Any) -> dict[str, Any]:
    session: dict[str, Any] = await sign_in(admin)
    return session


async def create_user(
    client: httpx.AsyncClient, admin_session: dict[str, Any], **fields: Any
) -> httpx.Response:
    body = {"email": new_email(), "password": "long-enough-password", "role": "viewer", **fields}
    return await client.post("/users", json=body, headers=bearer(admin_session))


async def test_a_viewer_is_refused_every_admin_endpoint(
    client: httpx.AsyncClient, sign_in: Any, viewer: Any
) -> None:
    session = await sign_in(viewer)
    user_id = session["user"]["id"]
    headers = bearer(session)

    answers = [
        await client.get("/users", headers=headers),
        await client.post(
            "/users",
            json={"email": new_email(), "password": "long-enough-password", "role": "admin"},
            headers=headers,
        ),
        await client.patch(f"/users/{user_id}", json={"role": "admin"}, headers=headers),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["error"]["code"] for a in answers} == {"forbidden"}


async def test_an_admin_creates_and_lists_users(
    client: httpx.AsyncClient, admin_session: dict[str, Any]
) -> None:
    email = new_email()

    created = await create_user(client, admin_session, email=email.upper(), role="admin")
    listed = await client.get("/users", headers=bearer(admin_session))

    assert created.status_code == 201
    user = created.json()["user"]
    assert user["email"] == email
    assert user["role"] == "admin"
    assert user["active"] is True
    assert "password" not in str(user).lower()
    assert user in listed.json()["users"]


async def test_emails_are_unique_ignoring_case(
    client: httpx.AsyncClient, admin_session: dict[str, Any]
) -> None:
    email = new_email()
    await create_user(client, admin_session, email=email)

    again = await create_user(client, admin_session, email=email.upper())

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    "fields",
    [{"password": "short"}, {"role": "owner"}, {"email": "not-an-email"}],
    ids=["short-password", "unknown-role", "bad-email"],
)
async def test_invalid_new_users_are_422_and_not_created(
    client: httpx.AsyncClient, admin_session: dict[str, Any], fields: dict[str, Any]
) -> None:
    email = fields.get("email", new_email())

    response = await create_user(client, admin_session, **{"email": email, **fields})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [detail["field"] for detail in error["details"]] == list(fields)
    listed = (await client.get("/users", headers=bearer(admin_session))).json()["users"]
    assert email not in {user["email"] for user in listed}


async def test_a_deactivated_user_can_neither_sign_in_nor_refresh(
    client: httpx.AsyncClient, admin_session: dict[str, Any]
) -> None:
    user = (await create_user(client, admin_session)).json()["user"]
    credentials = {"email": user["email"], "password": "long-enough-password"}
    session = (await client.post("/auth/login", json=credentials)).json()

    patched = await client.patch(
        f"/users/{user['id']}", json={"active": False}, headers=bearer(admin_session)
    )

    assert patched.status_code == 200
    assert patched.json()["user"]["active"] is False
    assert (await client.post("/auth/login", json=credentials)).status_code == 401
    refreshed = await client.post("/auth/refresh", json={"refreshToken": session["refreshToken"]})
    assert refreshed.status_code == 401


async def test_a_changed_role_and_password_apply(
    client: httpx.AsyncClient, admin_session: dict[str, Any]
) -> None:
    user = (await create_user(client, admin_session)).json()["user"]

    patched = await client.patch(
        f"/users/{user['id']}",
        json={"role": "admin", "password": "a-brand-new-password"},
        headers=bearer(admin_session),
    )
    old = await client.post(
        "/auth/login", json={"email": user["email"], "password": "long-enough-password"}
    )
    new = await client.post(
        "/auth/login", json={"email": user["email"], "password": "a-brand-new-password"}
    )

    assert patched.json()["user"]["role"] == "admin"
    assert old.status_code == 401
    assert new.json()["user"]["role"] == "admin"


async def test_admins_cannot_lock_themselves_out(
    client: httpx.AsyncClient, admin_session: dict[str, Any]
) -> None:
    own_id = admin_session["user"]["id"]

    demoted = await client.patch(
        f"/users/{own_id}", json={"role": "viewer"}, headers=bearer(admin_session)
    )
    deactivated = await client.patch(
        f"/users/{own_id}", json={"active": False}, headers=bearer(admin_session)
    )

    assert demoted.status_code == deactivated.status_code == 409
    assert demoted.json()["error"]["code"] == "cannot_change_own_access"


@pytest.mark.parametrize("user_id", ["0" * 24, "not-an-object-id"])
async def test_patching_an_unknown_user_is_404(
    client: httpx.AsyncClient, admin_session: dict[str, Any], user_id: str
) -> None:
    response = await client.patch(
        f"/users/{user_id}", json={"role": "viewer"}, headers=bearer(admin_session)
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "user_not_found"


@pytest.mark.parametrize("body", [{}, {"role": None}, {"nickname": "x"}])
async def test_a_patch_must_change_something_valid(
    client: httpx.AsyncClient, admin_session: dict[str, Any], body: dict[str, Any]
) -> None:
    user = (await create_user(client, admin_session)).json()["user"]

    response = await client.patch(f"/users/{user['id']}", json=body, headers=bearer(admin_session))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    listed = (await client.get("/users", headers=bearer(admin_session))).json()["users"]
    assert user in listed, "the user is left exactly as it was"


async def test_a_user_has_a_display_name_set_on_create_or_by_an_admin_that_everyone_reads(
    client: httpx.AsyncClient, admin_session: dict[str, Any], sign_in: Any, viewer: Any
) -> None:
    named = await create_user(client, admin_session, displayName="  Asha Rao ")
    unnamed = await create_user(client, admin_session)
    assert named.status_code == 201, named.text
    user, other = named.json()["user"], unnamed.json()["user"]
    assert user["displayName"] == "Asha Rao"
    # Until an admin names a user, the email stands for the name.
    assert other["displayName"] == other["email"]

    renamed = await client.patch(
        f"/users/{other['id']}", json={"displayName": "Vikram S"}, headers=bearer(admin_session)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["user"]["displayName"] == "Vikram S"
    for bad in ["", "   ", "a\nb", "x" * 81]:
        refused = await client.patch(
            f"/users/{other['id']}", json={"displayName": bad}, headers=bearer(admin_session)
        )
        assert refused.status_code == 422, bad

    # A viewer reads names (and nothing more) to see who did what; the rest stays admins'.
    viewer_session = await sign_in(viewer)
    names = await client.get("/users/names", headers=bearer(viewer_session))
    assert names.status_code == 200, names.text
    by_id = {u["id"]: u for u in names.json()["users"]}
    assert by_id[user["id"]] == {"id": user["id"], "displayName": "Asha Rao"}
    assert by_id[other["id"]]["displayName"] == "Vikram S"
    assert (await client.get("/users/names")).status_code == 401
    assert viewer_session["user"]["displayName"]
