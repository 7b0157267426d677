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
- A client-written X-Forwarded-For never picks the address the sign-in throttle counts or the
  audit log records, and one that is no address is refused; /metrics is not public; a redirect
  never follows the Host header; a huge header is cut at the socket (issue 21: 2, 12, 15).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import socket
import time
import uuid
from ipaddress import ip_address
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
                if expected_refusal is None and refused and not path.endswith("/refresh"):
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


# --- Issue 21: the client's address, /metrics, redirects, the head cap (findings 2, 12, 15) ---

# Markup, loopback, a private address, a random public one: what an attacker writes.
FORGED_FORWARDED_FOR = [
    "<img src=x onerror=alert(document.domain)>",
    "127.0.0.1",
    "10.0.0.1",
    "::1",
    *(f"198.51.100.{i}" for i in range(1, 12)),
]
# Loopback, but not the address the test profile's gateway trusts (127.0.0.1): a client the
# gateway believes nothing from, as a caller on the internet is.
UNTRUSTED_CLIENT = "127.0.0.2"


def _wrong_passwords_until_throttled(
    client: httpx.Client, gateway_url: str, email: str, forwarded_for: list[str]
) -> tuple[list[int], list[str]]:
    """Wrong passwords, a different X-Forwarded-For each time, until a 429 (statuses, the
    request ids of the refused sign-ins)."""
    statuses, request_ids = [], []
    for forged in forwarded_for:
        answer = client.post(
            f"{gateway_url}/api/auth/login",
            json={"email": email, "password": "not-the-password"},
            headers={"X-Forwarded-For": forged},
        )
        statuses.append(answer.status_code)
        if answer.status_code == 401:
            request_ids.append(answer.headers["X-Request-ID"])
        if answer.status_code == 429:
            break
    return statuses, request_ids


def _sign_in_failures(
    gateway_url: str, admin_headers: dict[str, str], user_id: str, request_ids: list[str]
) -> list[dict[str, Any]]:
    """The audit records of these failed sign-ins, once all of them have arrived (the orders'
    audit API, fed through Kafka), and every other sign-in failure of the user."""
    deadline = time.monotonic() + 60
    while True:
        page = httpx.get(
            f"{gateway_url}/api/audit",
            params={"action": "user.sign_in_failed", "target": user_id, "limit": 200},
            headers=admin_headers,
            timeout=10,
        )
        assert page.status_code == 200, page.text
        records: list[dict[str, Any]] = page.json()["records"]
        if set(request_ids) <= {record["requestId"] for record in records}:
            return records
        assert time.monotonic() < deadline, "the sign-in failures never reached the audit log"
        time.sleep(0.5)


def _is_an_address(text: str | None) -> bool:
    try:
        ip_address(text or "")
    except ValueError:
        return False
    return True


def test_a_forged_x_forwarded_for_neither_dodges_the_sign_in_throttle_nor_reaches_the_audit_log(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    email = credentials["viewer"][0]
    transport = httpx.HTTPTransport(local_address=UNTRUSTED_CLIENT)
    with httpx.Client(transport=transport, timeout=10) as client:
        statuses, request_ids = _wrong_passwords_until_throttled(
            client, gateway_url, email, FORGED_FORWARDED_FOR
        )

    # LOGIN_MAX_FAILURES (5) free failures, then the same client waits: the forged addresses
    # were never counted as clients of their own.
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429, statuses
    records = _sign_in_failures(
        gateway_url, admin_headers, viewer_session["user"]["id"], request_ids
    )
    ours = [record for record in records if record["requestId"] in request_ids]
    assert {record["clientAddress"] for record in ours} == {UNTRUSTED_CLIENT}


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted_not_what_the_client_wrote(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    # The test profile's gateway trusts the proxy on 127.0.0.1 (the test itself): the proxy
    # appends the address it saw to whatever the client wrote.
    seen_by_the_proxy = ".".join(["198.18", *(str(b) for b in uuid.uuid4().bytes[:2])])
    chains = [f"{forged}, {seen_by_the_proxy}" for forged in FORGED_FORWARDED_FOR]
    with httpx.Client(timeout=10) as client:
        statuses, request_ids = _wrong_passwords_until_throttled(
            client, gateway_url, credentials["viewer"][0], chains
        )

    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429, statuses
    records = _sign_in_failures(
        gateway_url, admin_headers, viewer_session["user"]["id"], request_ids
    )
    ours = [record for record in records if record["requestId"] in request_ids]
    assert {record["clientAddress"] for record in ours} == {seen_by_the_proxy}


def test_a_forwarded_address_that_is_no_address_is_refused_and_never_stored(
    gateway_url: str,
    credentials: dict[str, tuple[str, str]],
    admin_headers: dict[str, str],
    viewer_session: dict[str, Any],
) -> None:
    email = credentials["viewer"][0]
    markup = "<img src=x onerror=alert(document.domain)>"
    refused = httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": email, "password": "not-the-password"},
        headers={"X-Forwarded-For": markup},  # from the trusted proxy: believed, if an address
        timeout=10,
    )
    # A failure sent after it, so the audit log has caught up with the refused one by then.
    marker = httpx.post(
        f"{gateway_url}/api/auth/login",
        json={"email": email, "password": "not-the-password"},
        headers={"X-Forwarded-For": "198.18.255.1"},
        timeout=10,
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_forwarded_for"
    assert markup not in refused.text
    records = _sign_in_failures(
        gateway_url, admin_headers, viewer_session["user"]["id"], [marker.headers["X-Request-ID"]]
    )
    assert all(_is_an_address(record["clientAddress"]) for record in records), records


@pytest.mark.parametrize("target", ["gateway", *SERVICES_WITH_API, "mock_channels"])
def test_metrics_are_not_public(target: str, service_urls: dict[str, str]) -> None:
    url = f"{service_urls[target]}/metrics"
    # Through the trusted proxy from a caller outside (the gateway's ingress, or the gateway
    # in front of a service), and straight from the monitoring host.
    from_outside = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    from_monitoring = httpx.get(url, timeout=10)

    assert from_outside.status_code == 403
    assert from_outside.json()["error"]["code"] == "forbidden"
    assert from_monitoring.status_code == 200
    assert "# TYPE" in from_monitoring.text


def test_the_services_metrics_are_not_reachable_through_the_gateway(gateway_url: str) -> None:
    for path in ("/api/metrics", "/api/orders/metrics", "/api/auth/metrics"):
        answer = httpx.get(f"{gateway_url}{path}", timeout=10)
        assert "# TYPE" not in answer.text, path


@pytest.mark.parametrize("target", ["gateway", *SERVICES_WITH_API])
def test_a_redirect_never_follows_a_forged_host_header(
    target: str, service_urls: dict[str, str]
) -> None:
    answer = httpx.get(
        f"{service_urls[target]}/healthz/", headers={"Host": "evil.example"}, timeout=10
    )

    if target != "gateway":  # the gateway may answer the path itself (its SPA)
        assert 300 <= answer.status_code < 400
    location = answer.headers.get("Location", "/")
    assert "evil.example" not in location
    assert location.startswith("/")
    assert not location.startswith("//")


def test_an_8_mb_header_is_cut_at_the_gateways_socket(stack: Stack, gateway_url: str) -> None:
    pid = stack.pid("gateway")
    assert pid is not None

    def peak_memory_kb() -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]

    httpx.get(f"{gateway_url}/api/health", timeout=10)
    before = peak_memory_kb()
    host, port = gateway_url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        with contextlib.suppress(ConnectionError):
            connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: gw\r\nX-Big: ")
            for _ in range(128):
                connection.sendall(b"a" * 65_536)
        with contextlib.suppress(ConnectionError, TimeoutError):
            answer = connection.recv(65_536)
    time.sleep(0.5)

    assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert peak_memory_kb() - before < 4096
