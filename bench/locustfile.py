"""The Locust side of ``make bench``: simulated admins and the shape that paces them.

Run only by ``bench.run``, which writes the run file named by ``BENCH_RUN_FILE`` (the plan of
steps, tokens, credentials and orders to start from) and reads back the file named in it:
every request as a raw sample plus when each step began and ended, so every figure of the
report is computed the same way, by ``bench.stats``, from the raw samples.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events
from locust.env import Environment

from bench import mix
from bench.scenarios import PACED_USER_RATE, Step, broken_reason
from bench.stats import Sample, error_kind, in_window, numbers

if "BENCH_RUN_FILE" not in os.environ:
    raise SystemExit(
        "bench/locustfile.py is run by `make bench` (python -m bench.run), which writes the "
        "run file it starts from"
    )
RUN = json.loads(Path(os.environ["BENCH_RUN_FILE"]).read_text())
STEPS = [Step(**step) for step in RUN["plan"]["steps"]]
RNG = random.Random()  # noqa: S311 - picks simulated requests, not secrets
SEEN = mix.SeenOrders(capacity=5000, rng=RNG)
SEEN.add_from_api(RUN["orders"])
SAMPLES: list[Sample] = []
STEP_LOG: list[dict[str, Any]] = []


class Session:
    """An admin's tokens: the access token in use and the refresh tokens it may rotate."""

    def __init__(self, access_token: str, refresh_tokens: list[str]) -> None:
        self.access_token = access_token
        self.refresh_tokens: deque[str] = deque(refresh_tokens, maxlen=50)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


SHARED_SESSION = Session(RUN["accessToken"], RUN["refreshTokens"])


@events.request.add_listener
def _record(
    name: str,
    response_time: float,
    start_time: float,
    response: Any = None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    kind = None
    if exception is not None:
        status = getattr(response, "status_code", 0) or 0
        error = getattr(response, "error", None) or exception
        kind = error_kind(status, _error_code(response), type(error).__name__)
    SAMPLES.append(Sample(start_time, response_time, name, kind))


def _error_code(response: Any) -> str | None:
    try:
        code = json.loads(response.content)["error"]["code"]
    except (AttributeError, TypeError, ValueError, KeyError):
        return None
    return str(code)


@events.test_stop.add_listener
def _write_samples(environment: Environment, **_: Any) -> None:
    if STEP_LOG and STEP_LOG[-1]["ended_at"] is None:
        STEP_LOG[-1]["ended_at"] = time.time()
    Path(RUN["samplesFile"]).write_text(
        json.dumps({"steps": STEP_LOG, "samples": [s.to_row() for s in SAMPLES]})
    )


class _Admin(FastHttpUser):
    """One request per task, chosen by the weights of ``bench.mix.MIX``."""

    abstract = True
    network_timeout = 10.0
    connection_timeout = 5.0
    session: Session

    def _get(self, kind: str, path: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{path}?{urlencode(params, doseq=True)}" if params else path
        response = self.client.get(url, name=kind, headers=self.session.headers)
        return response.json() if response.status_code == 200 else None

    def read(self, kind: str) -> None:
        path = "/api/orders/stats" if kind == "stats" else "/api/orders"
        body = self._get(kind, path, mix.list_params(kind, RNG, SEEN))
        if body and "orders" in body:
            SEEN.add_from_api(body["orders"])

    def detail(self) -> None:
        order = SEEN.random()
        if order is None:
            self.read("list newest")
            return
        body = self._get("detail", f"/api/orders/{order.id}")
        if body:
            SEEN.add_from_api([body["order"]])

    def status_move(self) -> None:
        movable = SEEN.take_movable()
        if movable is None:
            self.read("list by status")
            return
        order, status = movable
        response = self.client.patch(
            f"/api/orders/{order.id}/status",
            # A move to SHIPPED carries its shipment (CONTRACT section 4).
            json={
                "status": status,
                "note": "bench",
                **(
                    {"shipment": {"carrier": "Bench Express", "trackingNumber": f"BE-{order.id}"}}
                    if status == "SHIPPED"
                    else {}
                ),
            },
            name="status move",
            headers=self.session.headers,
        )
        answer = response.json()["order"] if response.status_code == 200 else None
        SEEN.settle_move(order.id, mix.SeenOrder.from_api(answer) if answer else None)

    def token_refresh(self) -> None:
        if not self.session.refresh_tokens:
            self.login()
            return
        response = self.client.post(
            "/api/auth/refresh",
            json={"refreshToken": self.session.refresh_tokens.popleft()},
            name="token refresh",
        )
        if response.status_code == 200:
            tokens = response.json()
            self.session.access_token = tokens["accessToken"]
            self.session.refresh_tokens.append(tokens["refreshToken"])

    def login(self) -> None:
        """Signs in as the admin or the viewer; an admin's refresh token joins the session."""
        role = RNG.choice(("admin", "viewer"))
        response = self.client.post("/api/auth/login", json=RUN["credentials"][role], name="login")
        if response.status_code == 200 and role == "admin":
            self.session.refresh_tokens.append(response.json()["refreshToken"])


def _task(kind: str) -> Any:
    special = {
        "detail": _Admin.detail,
        "status move": _Admin.status_move,
        "token refresh": _Admin.token_refresh,
        "login": _Admin.login,
    }
    if kind in special:
        return special[kind]

    def read(user: _Admin) -> None:
        user.read(kind)

    read.__name__ = kind
    return read


# A task listed ``weight`` times is picked ``weight`` times as often (Locust's own weighting).
_Admin.tasks = [task for kind in mix.MIX for task in [_task(kind.name)] * kind.weight]


class ThinkingAdmin(_Admin):
    """A person at the admin app: signs in, then a request every 0.5 to 1.5 s (closed loop)."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        response = self.client.post(
            "/api/auth/login", json=RUN["credentials"]["admin"], name="login"
        )
        tokens = response.json() if response.status_code == 200 else {}
        self.session = Session(
            tokens.get("accessToken", RUN["accessToken"]),
            [tokens["refreshToken"]] if "refreshToken" in tokens else [],
        )


class PacedAdmin(_Admin):
    """Starts a request every 1 / PACED_USER_RATE s, sharing one signed-in session."""

    wait_time = constant_throughput(PACED_USER_RATE)
    session = SHARED_SESSION


class BenchShape(LoadTestShape):
    """Runs the plan's steps in turn; stops after a step marked stop_if_broken that broke."""

    def __init__(self) -> None:
        super().__init__()
        self._current = -1

    def tick(self) -> tuple[int, float] | None:
        elapsed, index = self.get_run_time(), 0
        while index < len(STEPS) and elapsed >= STEPS[index].duration_s:
            elapsed -= STEPS[index].duration_s
            index += 1
        if index != self._current:
            if self._current >= 0 and self._close_step(self._current):
                return None
            if index == len(STEPS):
                return None
            self._current = index
            STEP_LOG.append({"index": index, "started_at": time.time(), "ended_at": None})
        step = STEPS[index]
        return step.users, step.spawn_rate

    def _close_step(self, index: int) -> bool:
        """Ends the step's log entry; True when the run must stop here."""
        entry, step = STEP_LOG[-1], STEPS[index]
        entry["ended_at"] = time.time()
        if not step.stop_if_broken:
            return False
        start = entry["started_at"] + step.warmup_s
        measured = numbers(in_window(SAMPLES, start, entry["ended_at"]), entry["ended_at"] - start)
        entry["broken"] = broken_reason(measured, step.target_rate)
        return entry["broken"] is not None
