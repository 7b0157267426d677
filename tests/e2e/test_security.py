"""Security claims of docs/THREAT_MODEL.md, proven against the running stack.

- Forged tokens (alg none, HS256 keyed with the public key, unknown kid, wrong iss or aud,
  expired, tampered role) are refused by the gateway and by every service on its own port.
- Revoked tokens (the user deactivated, or the token signed out) are refused by orders and
  ingest on their own ports too, at once, not when the token expires.
- Role-based access for every route every service documents, for every role, generated from
  the gateway's route table (``gateway.routes.resolve``): a service route the table has no rule
  for fails here, and so does a route whose edge or service check lets the wrong role through.
- No log written during the run holds a password (the stores' included), a token, or a
  customer's email or phone.
- The stores (FerretDB, Redis, Kafka) refuse clients without their credentials or with wrong
  ones, and serve the stack's own user.

The edge's own claims (the client's address, /metrics, redirects, the head cap) are in
``test_edge_security.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.exceptions
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure
from redis.asyncio import Redis

from devstack import credentials, postgres
from devstack.stack import Stack
from gateway.routes import Access, resolve
from orderhub_common.kafka import aiokafka_options
from orderhub_common.settings import KafkaSettings

pytestmark = pytest.mark.e2e

SERVICES_WITH_API = ("auth", "orders", "ingest")
# What each service answers a signed-in caller with, to probe its own token check.
PROBES = {"auth": "/auth/me", "orders": "/orders", "ingest": "/channels"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_in(gateway_url: str, email: str, password: str) -> dict[str, Any]:
    response = httpx.post(
        f"{gateway_url}/api/auth/login", json={"email": email, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def forged_tokens(valid: str, jwks: dict[str, Any]) -> dict[str, str]:
    header_text, payload_text, signature = valid.split(".")
    header, claims = json.loads(unb64(header_text)), json.loads(unb64(payload_text))

    def encode(new_header: dict[str, Any], new_claims: dict[str, Any], sig: str = signature) -> str:
        return (
            f"{b64(json.dumps(new_header).encode())}.{b64(json.dumps(new_claims).encode())}.{sig}"
        )

    def hs256(new_header: dict[str, Any], secret: bytes) -> str:
        signing_input = encode(new_header, claims, "").rsplit(".", 1)[0]
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(mac)}"

    public_key = jwks["keys"][0]
    return {
        "alg-none": encode({"alg": "none", "typ": "JWT"}, claims, ""),
        "hs256-with-public-key": hs256({**header, "alg": "HS256"}, json.dumps(public_key).encode()),
        "hs256-with-public-x": hs256({**header, "alg": "HS256"}, unb64(public_key["x"])),
        "unknown-kid": encode({**header, "kid": "not-a-published-key"}, claims),
        "wrong-issuer": encode(header, {**claims, "iss": "someone-else"}),
        "wrong-audience": encode(header, {**claims, "aud": "another-app"}),
        "expired": encode(header, {**claims, "exp": int(time.time()) - 3600}),
        "tampered-role": encode(header, {**claims, "role": "admin"}),
    }


@pytest.fixture(scope="module")
def viewer_session(gateway_url: str, credentials: dict[str, tuple[str, str]]) -> dict[str, Any]:
    return sign_in(gateway_url, *credentials["viewer"])


@pytest.mark.parametrize("target", ["gateway", *SERVICES_WITH_API])
def test_forged_tokens_are_refused_by_the_gateway_and_every_service(
    target: str, service_urls: dict[str, str], viewer_session: dict[str, Any]
) -> None:
    jwks = httpx.get(f"{service_urls['auth']}/.well-known/jwks.json", timeout=10).json()
    tokens = forged_tokens(viewer_session["accessToken"], jwks)
    url = (
        f"{service_urls['gateway']}/api/orders"
        if target == "gateway"
        else f"{service_urls[target]}{PROBES[target]}"
    )

    genuine = httpx.get(url, headers={"Authorization": f"Bearer {viewer_session['accessToken']}"})
    answers = {
        name: httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        for name, token in tokens.items()
    }

    assert genuine.status_code == 200
    assert answers == dict.fromkeys(tokens, 401)


def _new_admin_session(gateway_url: str, admin_headers: dict[str, str]) -> dict[str, Any]:
    email, password = f"e2e-{uuid.uuid4().hex[:8]}@orderhub.local", "revoked-token-passphrase"
    created = httpx.post(
        f"{gateway_url}/api/users",
        json={"email": email, "password": password, "role": "admin"},
        headers=admin_headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return sign_in(gateway_url, email, password)


def test_revoked_tokens_are_refused_by_orders_and_ingest_on_their_own_ports(
    service_urls: dict[str, str], admin_headers: dict[str, str]
) -> None:
    gateway, orders, ingest = (service_urls[name] for name in ("gateway", "orders", "ingest"))
    deactivated = _new_admin_session(gateway, admin_headers)
    signed_out = _new_admin_session(gateway, admin_headers)
    team_view = httpx.post(
        f"{gateway}/api/views",
        json={"name": f"team {uuid.uuid4().hex[:6]}", "shared": True},
        headers=admin_headers,
        timeout=10,
    ).json()["view"]
    gone = httpx.patch(
        f"{gateway}/api/users/{deactivated['user']['id']}",
        json={"active": False},
        headers=admin_headers,
        timeout=10,
    )
    assert gone.status_code == 200, gone.text
    out = httpx.post(
        f"{gateway}/api/auth/logout",
        json={"refreshToken": signed_out["refreshToken"]},
        headers={"Authorization": f"Bearer {signed_out['accessToken']}"},
        timeout=10,
    )
    assert out.status_code == 204, out.text

    def answers(token: str) -> dict[str, int]:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            return {
                "list": client.get(f"{orders}/orders").status_code,
                "export": client.post(f"{orders}/exports", json={"view": {}}).status_code,
                "rename view": client.patch(
                    f"{orders}/views/{team_view['id']}", json={"name": "taken over"}
                ).status_code,
                "unshare view": client.patch(
                    f"{orders}/views/{team_view['id']}", json={"shared": False}
                ).status_code,
                "pause ingestion": client.post(f"{ingest}/channels/amazon/pause").status_code,
            }

    refused = {
        "deactivated": answers(deactivated["accessToken"]),
        "signed out": answers(signed_out["accessToken"]),
    }
    try:
        for calls in refused.values():
            assert calls == dict.fromkeys(calls, 401), refused
    finally:
        if any(a["pause ingestion"] == 200 for a in refused.values()):
            httpx.post(f"{gateway}/api/channels/amazon/resume", headers=admin_headers, timeout=10)
    views = httpx.get(f"{gateway}/api/views", headers=admin_headers, timeout=10).json()["views"]
    assert next(v for v in views if v["id"] == team_view["id"]) == team_view
    # A token that still stands is served on the same ports.
    valid = admin_headers
    assert httpx.get(f"{orders}/orders", headers=valid, timeout=10).status_code == 200
    assert httpx.get(f"{ingest}/channels", headers=valid, timeout=10).status_code == 200


def _documented_routes(service_urls: dict[str, str]) -> list[tuple[str, str, str]]:
    """(service, method, path) of every operation each service's own OpenAPI document lists."""
    routes = []
    for service in SERVICES_WITH_API:
        document = httpx.get(f"{service_urls[service]}/openapi.json", timeout=10).json()
        for path, operations in document["paths"].items():
            for method in operations:
                if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                    routes.append((service, method.upper(), path))
    return routes


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "id-for-rbac-test", path)


# Service routes that are not part of the public API (the gateway serves its own /api/health and
# the combined docs; probes and key sets are reached service to service).
_INTERNAL = {"/.well-known/jwks.json", "/asyncapi", "/asyncapi.json"}


def test_every_documented_route_has_a_rule_and_every_role_gets_exactly_what_it_allows(
    service_urls: dict[str, str], credentials: dict[str, tuple[str, str]]
) -> None:
    gateway_url = service_urls["gateway"]
    routes = [r for r in _documented_routes(service_urls) if r[2] not in _INTERNAL]
    assert len(routes) >= 8, routes
    without_rule = [
        (service, method, path)
        for service, method, path in routes
        if (match := resolve(method, _concrete(path).lstrip("/"))) is None
        or match.upstream.value != service
    ]
    assert without_rule == [], "routes the gateway's route table does not route (add a rule)"

    wrong: list[str] = []
    for service, method, path in routes:
        route = resolve(method, _concrete(path).lstrip("/"))
        assert route is not None
        for role in ("anonymous", "viewer", "admin"):
            # A fresh sign-in per call: a sign-out probe must not end the next call's token.
            headers = {}
            if role != "anonymous":
                token = sign_in(gateway_url, *credentials[role])["accessToken"]
                headers = {"Authorization": f"Bearer {token}"}
            for where, base, prefix in (
                ("edge", gateway_url, "/api"),
                ("service", service_urls[service], ""),
            ):
                answer = httpx.request(
                    method, f"{base}{prefix}{_concrete(path)}", headers=headers, json={}, timeout=10
                ).status_code
                expected_refusal = {
                    ("anonymous", Access.SIGNED_IN): 401,
                    ("anonymous", Access.ADMIN): 401,
                    ("viewer", Access.ADMIN): 403,
                }.get((role, route.access))
                refused = answer in {401, 403}
                if expected_refusal is not None and answer != expected_refusal:
                    wrong.append(
                        f"{where} {method} {path} as {role}: {answer}, not {expected_refusal}"
                    )
                # A refresh and a webhook carry credentials of their own (a refresh token, the
                # body's signature), which no role's token replaces: refused without them.
                own_credential = path.endswith("/refresh") or path.startswith("/webhooks/")
                if expected_refusal is None and refused and not own_credential:
                    wrong.append(f"{where} {method} {path} as {role}: refused with {answer}")

    assert wrong == []


def test_no_log_holds_a_password_a_token_or_a_customers_email_or_phone(
    stack: Stack,
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    mock_channels_url: str,
) -> None:
    # The flows that handle secrets, so the logs below have had the chance to leak them.
    admin_email, admin_password = credentials["admin"]
    session = sign_in(gateway_url, admin_email, admin_password)
    wrong_password = f"wrong-{uuid.uuid4().hex}"
    httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": admin_email, "password": wrong_password},
        timeout=10,
    )
    refreshed = httpx.post(
        f"{gateway_url}/api/auth/refresh",
        json={"refreshToken": session["refreshToken"]},
        timeout=10,
    ).json()
    headers = {"Authorization": f"Bearer {refreshed['accessToken']}"}
    httpx.post(f"{mock_channels_url}/_control/website/orders", json={"count": 2}, timeout=10)
    orders = httpx.get(f"{gateway_url}/api/orders?limit=100", headers=headers, timeout=10).json()
    customers = [order["customer"] for order in orders["orders"]]

    secrets = {
        "a bootstrap password": [password for _, password in credentials.values()],
        "a store password": [
            stack.profile.environment[name]
            for name in ("MONGODB_PASSWORD", "REDIS_PASSWORD", "KAFKA_SASL_PASSWORD")
        ],
        "a refused password": [wrong_password],
        "a refresh token": [session["refreshToken"], refreshed["refreshToken"]],
        "a customer email": [c["email"] for c in customers if c.get("email")],
        "a customer phone": [c["phone"] for c in customers if c.get("phone")],
    }
    access_token = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}")
    logs = sorted(Path(stack.logs_dir).glob("*.log"))
    assert logs, "the stack wrote no logs"

    leaks = []
    for log in logs:
        text = log.read_text(errors="replace")
        if access_token.search(text):
            leaks.append(f"{log.name}: an access token")
        for what, values in secrets.items():
            if any(value and value in text for value in values):
                leaks.append(f"{log.name}: {what}")

    assert leaks == []


async def _redis_answers(port: int, username: str | None, password: str | None) -> bool:
    client = Redis(host="127.0.0.1", port=port, username=username, password=password)
    try:
        return bool(await client.set("credentials-probe", "1"))
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
        return False
    finally:
        await client.aclose()


async def _mongodb_answers(url: str) -> bool:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        await client["credentials_probe"]["probe"].insert_one({"probe": True})
        await client.drop_database("credentials_probe")
        return True
    except OperationFailure:
        return False
    finally:
        await client.close()


async def _kafka_answers(options: dict[str, Any]) -> bool:
    admin = AIOKafkaAdminClient(request_timeout_ms=5000, **options)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        await admin.close()


async def _postgres_role(url: str) -> str | None:
    """The role ``url`` signs in as, None if PostgreSQL refuses it."""
    try:
        connection = await asyncpg.connect(url, timeout=5)
    except asyncpg.InvalidPasswordError:
        return None
    try:
        return str(await connection.fetchval("SELECT current_user"))
    finally:
        await connection.close()


async def test_postgres_refuses_the_development_password_and_the_service_owns_nothing(
    stack: Stack,
) -> None:
    port = stack.port("postgres")
    development = "dev-only-postgres-password"

    refused = {
        role: await _postgres_role(
            f"postgresql://{role}:{development}@127.0.0.1:{port}/{postgres.DATABASE}"
        )
        for role in (postgres.ROLE, postgres.OWNER)
    }
    assert refused == {postgres.ROLE: None, postgres.OWNER: None}

    # The stack's own roles sign in, with passwords on no command line; what orders works as
    # owns no table, so it cannot disable the audit log's append-only trigger.
    env = stack.profile.environment
    passwords = [env[postgres.PASSWORD_VARIABLE], env[postgres.OWNER_PASSWORD_VARIABLE]]
    assert development not in passwords
    assert [p for p in passwords if p in (stack.run_dir / "supervisord.conf").read_text()] == []
    assert await _postgres_role(stack.postgres_owner_url) == postgres.OWNER
    service = await asyncpg.connect(stack.postgres_url, timeout=5)
    try:
        assert await service.fetchval("SELECT current_user") == postgres.ROLE
        owned = await service.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1",
            postgres.ROLE,
        )
        assert owned == []
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await service.execute(
                "ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await service.execute("DELETE FROM audit_records")
    finally:
        await service.close()


async def test_the_stores_refuse_clients_without_the_stacks_credentials(stack: Stack) -> None:
    env = stack.profile.environment
    redis_port, mongodb_port = stack.port("redis"), stack.port("mongodb")
    kafka = {"bootstrap_servers": stack.kafka_bootstrap}
    sasl = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN"}
    user = env["KAFKA_SASL_USERNAME"]

    refused = {
        "redis, no user": await _redis_answers(redis_port, None, None),
        "redis, a wrong password": await _redis_answers(redis_port, env["REDIS_USERNAME"], "x"),
        "mongodb, no user": await _mongodb_answers(f"mongodb://127.0.0.1:{mongodb_port}"),
        "mongodb, a wrong password": await _mongodb_answers(
            f"mongodb://{env['MONGODB_USERNAME']}:wrong@127.0.0.1:{mongodb_port}/?authSource=admin"
        ),
        "kafka, no SASL": await _kafka_answers(kafka),
        "kafka, a wrong password": await _kafka_answers(
            kafka | sasl | {"sasl_plain_username": user, "sasl_plain_password": "wrong"}
        ),
    }
    assert [what for what, answered in refused.items() if answered] == []

    # Their passwords are on no command line, and the files that hold them are the owner's.
    passwords = [env[f"{store}_PASSWORD"] for store in ("MONGODB", "REDIS", "KAFKA_SASL")]
    passwords += [env[variable] for variable in credentials.KAFKA_SERVICE_PASSWORDS]
    commands = (stack.run_dir / "supervisord.conf").read_text()
    assert [p for p in passwords if p in commands] == []
    for holder in (
        stack.run_dir / "kafka-server.properties",
        stack.profile.data_dir / "redis" / "users.acl",
        *(
            stack.run_dir / "env" / f"{user}.credentials"
            for user in credentials.KAFKA_SERVICE_USERS
        ),
    ):
        assert holder.stat().st_mode & 0o077 == 0, holder

    # The stack's own user is served by each (what every service connects with).
    assert await _redis_answers(redis_port, env["REDIS_USERNAME"], env["REDIS_PASSWORD"])
    assert await _mongodb_answers(stack.mongodb_url)
    assert await _kafka_answers(aiokafka_options(KafkaSettings(**stack.kafka_settings())))


def _environment_of(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def test_each_service_signs_in_to_kafka_as_its_own_user_and_knows_no_other_kafka_password(
    stack: Stack,
) -> None:
    env = stack.profile.environment
    kafka_passwords = {
        env["KAFKA_SASL_PASSWORD"],
        *(env[variable] for variable in credentials.KAFKA_SERVICE_PASSWORDS),
    }
    signed_in: dict[str, tuple[str | None, list[str]]] = {}
    for service in (*credentials.KAFKA_SERVICE_USERS, "mock_channels"):
        pid = stack.pid(service)
        assert pid is not None, service
        environment = _environment_of(pid)
        user = environment.get("KAFKA_SASL_USERNAME")
        own = environment.get("KAFKA_SASL_PASSWORD")
        others = sorted(
            name
            for name, value in environment.items()
            if value in kafka_passwords and not (name == "KAFKA_SASL_PASSWORD" and value == own)
        )
        assert own is None or own == env.get(credentials.kafka_password_variable(service)), service
        signed_in[service] = (user, others)

    assert signed_in == {
        **{user: (user, []) for user in credentials.KAFKA_SERVICE_USERS},
        "mock_channels": (None, []),
    }
