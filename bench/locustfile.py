"""The Locust side of ``make bench``: the crowd, the one heavy admin, and the shape that paces them.

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

from locust import FastHttpUser, LoadTestShape, constant_throughput, events
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
CROWD: list[dict[str, str]] = RUN.get("crowd", [])
_next_person = iter(range(10**9))
# Refreshed this long before the access token expires, as the SPA does.
REFRESH_MARGIN_S = 60.0
PACE_CHECK_S = 0.25
SIGN_IN_TRIES = 3


class Session:
    """An admin's tokens: the access token in use and the refresh tokens it may rotate."""

    def __init__(
        self, access_token: str, refresh_tokens: list[str], expires_in_s: float = 900
    ) -> None:
        self.access_token = access_token
        self.refresh_tokens: deque[str] = deque(refresh_tokens, maxlen=50)
        self.due_at = time.monotonic() + expires_in_s - REFRESH_MARGIN_S

    def renewed(self, tokens: dict[str, Any]) -> None:
        """The token pair of a sign-in or a refresh replaces the one in use."""
        self.access_token = tokens["accessToken"]
        self.refresh_tokens = deque([tokens["refreshToken"]], maxlen=50)
        self.due_at = time.monotonic() + float(tokens.get("expiresIn", 900)) - REFRESH_MARGIN_S

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


class PacedAdmin(_Admin):
    """One heavy admin: Locust users that share one signed-in session, each starting a request
    every 1 / PACED_USER_RATE s."""

    wait_time = constant_throughput(PACED_USER_RATE)
    session = SHARED_SESSION


def current_step() -> Step:
    return STEPS[STEP_LOG[-1]["index"]] if STEP_LOG else STEPS[0]


class CrowdUser(_Admin):
    """One person of the crowd, with an account of its own (admin or viewer, from the run file):
    signs in once, refreshes the access token when it is due, and makes its role's requests.

    Paced steps: a request every ``users / rate`` seconds whatever the answers (from a random
    first instant within one interval, so the crowd's requests spread evenly); closed loop: a
    request 0.5 to 1.5 s after the previous answer.
    """

    def on_start(self) -> None:
        self.account = CROWD[next(_next_person) % len(CROWD)]
        self.kinds = mix.ADMIN_MIX if self.account["role"] == "admin" else mix.VIEWER_MIX
        self._weights = [kind.weight for kind in self.kinds]
        self._next_at: float | None = None
        self._interval = 0.0
        self.session = Session("", [])
        for _ in range(SIGN_IN_TRIES):
            if self.sign_in():
                break
            time.sleep(RNG.uniform(0.5, 1.5))  # Locust's gevent patches it: this user only

    def sign_in(self) -> bool:
        credentials = {"email": self.account["email"], "password": self.account["password"]}
        response = self.client.post("/api/auth/login", json=credentials, name="login")
        if response.status_code == 200:
            self.session.renewed(response.json())
        return response.status_code == 200

    def refresh(self) -> None:
        if not self.session.refresh_tokens:
            self.sign_in()
            return
        response = self.client.post(
            "/api/auth/refresh",
            json={"refreshToken": self.session.refresh_tokens[-1]},
            name="token refresh",
        )
        if response.status_code == 200:
            self.session.renewed(response.json())
        else:
            self.sign_in()

    def wait_time(self) -> float:
        if current_step().target_rate is None:
            self._next_at = None
            return RNG.uniform(0.5, 1.5)
        # Short naps, so a new step's pace applies at once rather than after the old interval.
        if self._next_at is None:
            return 0.0
        return min(PACE_CHECK_S, max(0.0, self._next_at - time.monotonic()))

    def _due(self) -> bool:
        """Paced: whether this person's next request is due now (and when the one after is)."""
        step = current_step()
        if step.target_rate is None:
            return True
        interval, now = step.users / step.target_rate, time.monotonic()
        if self._next_at is None or interval != self._interval:
            # A new pace: the first request at a random instant within one interval, so the
            # crowd's requests spread evenly.
            self._next_at, self._interval = now + RNG.uniform(0, interval), interval
        if now < self._next_at:
            return False
        # Behind (a slow answer): the next starts right after, without a burst to catch up.
        self._next_at = max(self._next_at + interval, now)
        return True

    def act(self) -> None:
        if not self._due():
            return
        if not self.session.access_token:  # every sign-in so far was refused: try again
            self.sign_in()
            return
        if time.monotonic() >= self.session.due_at:
            self.refresh()
            return
        kind = RNG.choices(self.kinds, weights=self._weights)[0].name
        if kind == "login":
            self.sign_in()
        elif kind == "token refresh":
            self.refresh()
        elif kind == "detail":
            self.detail()
        elif kind == "status move":
            self.status_move()
        else:
            self.read(kind)


# Its one task; not the heavy admin's weighted list it would inherit.
CrowdUser.tasks = [CrowdUser.act]


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
