"""No request or Kafka record of any service waits for a worker thread to hand it an object it
already holds.

FastAPI runs a plain ``def`` dependency or endpoint in Starlette's thread pool: a handoff to a
worker thread and back for every call, which at a crowd's rate cost more CPU than the lookup it
made (``app.state``, the caller's address) and queued requests behind the pool's 40 threads.
Every dependency and endpoint of every service is therefore a coroutine function; this walks
each app's routes, dependencies of dependencies included. FastStream does the same with a plain
function handler, decoder, parser or filter of a subscriber: each is a coroutine function too.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker

from orderhub_common.settings import load_settings

pytestmark = pytest.mark.unit

SERVICES = ("auth", "orders", "ingest", "gateway", "mock_channels")
# The instrumentator's own endpoint: read by the monitoring system every few seconds, not by
# anyone's request, and rendering every metric is CPU work a worker thread may do.
_LIBRARY_ENDPOINTS = frozenset(
    {
        "prometheus_fastapi_instrumentator.instrumentation.PrometheusFastApiInstrumentator.expose.<locals>.metrics"
    }
)


def _app(service: str) -> FastAPI:
    return _app_and_brokers(service)[0]


def _app_and_brokers(service: str) -> tuple[FastAPI, list[KafkaBroker]]:
    main = importlib.import_module(f"{service}.main")
    settings_class = typing.get_type_hints(main.create_app)["settings"]
    brokers: list[KafkaBroker] = []
    create_broker = getattr(main, "create_broker", None)

    def kept(*args: Any, **kwargs: Any) -> KafkaBroker:
        assert create_broker is not None
        broker = create_broker(*args, **kwargs)
        brokers.append(broker)
        return broker

    with pytest.MonkeyPatch.context() as patch:
        if create_broker is not None:
            patch.setattr(main, "create_broker", kept)
        app = main.create_app(load_settings(settings_class))
    assert isinstance(app, FastAPI)
    return app, brokers


def _is_coroutine(call: object) -> bool:
    if inspect.isroutine(call):
        return inspect.iscoroutinefunction(call)
    # A callable instance (HTTPBearer): its __call__ decides.
    return inspect.iscoroutinefunction(type(call).__call__)


def _calls(dependant: Dependant) -> Iterator[object]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def sync_calls(app: FastAPI) -> list[str]:
    found = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            for call in _calls(route.dependant):
                name = getattr(call, "__qualname__", type(call).__qualname__)
                qualified = f"{getattr(call, '__module__', '?')}.{name}"
                if not _is_coroutine(call) and qualified not in _LIBRARY_ENDPOINTS:
                    found.add(f"{route.path}: {qualified}")
    return sorted(found)


@pytest.mark.parametrize("service", SERVICES)
def test_every_dependency_and_endpoint_is_a_coroutine(service: str) -> None:
    assert sync_calls(_app(service)) == []


def sync_consumer_calls(broker: KafkaBroker) -> list[str]:
    found = set()
    for subscriber in broker.subscribers:
        # The decoder and parser given to ``broker.subscriber`` (FastStream keeps them there).
        options = subscriber._call_options
        calls = [options.decoder, options.parser]
        for item in subscriber.calls:
            calls += [item.filter, item.handler._original_call]
        for call in calls:
            if call is not None and not _is_coroutine(call):
                found.add(f"{getattr(call, '__module__', '?')}.{call.__qualname__}")
    return sorted(found)


@pytest.mark.parametrize("service", SERVICES)
def test_every_kafka_handler_decoder_parser_and_filter_is_a_coroutine(service: str) -> None:
    for broker in _app_and_brokers(service)[1]:
        assert sync_consumer_calls(broker) == []


def test_a_plain_function_decoder_is_found() -> None:
    broker = KafkaBroker()

    def bodies(message: Any) -> list[bytes]:
        return list(message.body)

    @broker.subscriber("topic", batch=True, decoder=bodies)
    async def handler(records: list[bytes]) -> None:
        return None

    assert [found.rpartition(".")[2] for found in sync_consumer_calls(broker)] == ["bodies"]


def test_a_plain_function_dependency_is_found() -> None:
    app = FastAPI()

    def from_state() -> int:
        return 1

    @app.get("/x")
    async def endpoint(value: int = Depends(from_state)) -> int:
        return value

    assert [found.rpartition(".")[2] for found in sync_calls(app)] == ["from_state"]
