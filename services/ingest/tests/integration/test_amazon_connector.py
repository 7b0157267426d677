"""The Amazon connector against the Amazon simulator: Login with Amazon and its refresh, paging of
orders and of their items, restricted data, usage plans and throttling, the static sandbox; each
through the poller, to Kafka, as Order Hub ingests them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack.pytest_plugin import InfraUrls
from ingest.connectors.base import ApiErrorKind
from ingest.main import build_poller
from mock_channels.main import create_app as create_mock_channels
from mock_channels.settings import MockChannelsSettings
from orderhub_common.amazon_sp_api import SIMULATOR_CLIENT_ID, SIMULATOR_CLIENT_SECRET
from orderhub_common.events import Channel, OrderStatus

from .conftest import PollerKit, create_orders, ingest_settings
from .test_polling import published
from .test_service import TOKENS, ingest  # noqa: F401 - the ingest app fixture

pytestmark = pytest.mark.integration


class CountingTransport(httpx.AsyncBaseTransport):
    """The in-process channels, counting each answer's status per path."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.answers: Counter[tuple[str, int]] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.answers[(request.url.path.rsplit("/", 1)[-1], response.status_code)] += 1
        return response


def kit_with(kit: PollerKit, infra: InfraUrls, name: str, transport: Any, **env: Any) -> PollerKit:
    settings = ingest_settings(infra, name, **env)
    return PollerKit(settings, kit.repository, kit.publisher, transport)


async def poll(kit: PollerKit) -> int:
    poller = build_poller(
        Channel.AMAZON, kit.settings, kit.repository, kit.publisher, "replica-a", kit.transport
    )
    assert await poller.lease.take_or_renew()
    try:
        return await poller.poll()
    finally:
        await poller.feed.close()


@pytest.fixture
def channels_app() -> FastAPI:
    # One item a page, so an order of two or more items takes getOrderItems' NextToken.
    return create_mock_channels(
        MockChannelsSettings(seed_orders=0, control_api=True, amazon_items_per_page=1)
    )


async def test_orders_arrive_whole_signed_in_paged_and_with_restricted_data(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    created = await create_orders(channels, Channel.AMAZON, 6)
    assert await poll(kit) == 6, "POLL_PAGE_SIZE 4: two getOrders pages"

    events = await published(kit)
    assert Counter(e.order.external_id for e in events) == Counter(created)
    assert any(len(e.order.items) > 1 for e in events), "some order's items took two pages"
    for event in events:
        native = (await channels.get(f"/_control/amazon/orders/{event.order.external_id}")).json()
        assert [i.sku for i in event.order.items] == [i["SellerSKU"] for i in native["OrderItems"]]
        # Buyer name, phone and street only come with the restricted data token.
        assert event.order.customer.name == native["BuyerInfo"]["BuyerName"]
        assert event.order.customer.phone.startswith("+91")
        assert event.order.shipping_address is not None
        assert event.order.shipping_address.line1 == native["ShippingAddress"]["AddressLine1"]
    signed = (await channels.get("/_control/amazon/sign-in")).json()
    assert signed["signIns"] == 1, "one access token for every call"


async def test_an_expired_access_token_is_refreshed_and_nothing_is_lost(
    kit: PollerKit, channels: httpx.AsyncClient, infra: InfraUrls, unique_name: str
) -> None:
    transport = CountingTransport(kit.transport.app)  # type: ignore[attr-defined]
    kit = kit_with(kit, infra, unique_name, transport)
    first = await create_orders(channels, Channel.AMAZON, 2)
    poller = build_poller(
        Channel.AMAZON, kit.settings, kit.repository, kit.publisher, "replica-a", transport
    )
    assert await poller.lease.take_or_renew()
    assert await poller.poll() == 2
    # Amazon ends the token before the client expected (a revocation, a clock apart).
    await channels.post("/_control/amazon/sign-in/expire")
    second = await create_orders(channels, Channel.AMAZON, 2)
    assert await poller.poll() == 2
    await poller.feed.close()

    # The restricted data token and the access token both refused once, then both renewed.
    assert transport.answers[("orders", 403)] == 1
    assert transport.answers[("restrictedDataToken", 403)] == 1
    assert (await channels.get("/_control/amazon/sign-in")).json()["signIns"] == 2
    ids = Counter(e.order.external_id for e in await published(kit))
    assert ids == Counter(first + second)


async def test_a_revoked_access_token_is_answered_by_signing_in_again(
    kit: PollerKit, channels: httpx.AsyncClient
) -> None:
    first = await create_orders(channels, Channel.AMAZON, 2)
    poller = build_poller(
        Channel.AMAZON, kit.settings, kit.repository, kit.publisher, "replica-a", kit.transport
    )
    assert await poller.lease.take_or_renew()
    assert await poller.poll() == 2
    # The seller authorized Order Hub again, or Amazon dropped its tokens: an hour before the
    # cached one would expire, every call is refused as "revoked, malformed or invalid".
    await channels.post("/_control/amazon/sign-in/revoke")
    second = await create_orders(channels, Channel.AMAZON, 2)
    assert await poller.poll() == 2
    await poller.feed.close()

    assert (await channels.get("/_control/amazon/sign-in")).json()["signIns"] == 2
    ids = Counter(e.order.external_id for e in await published(kit))
    assert ids == Counter(first + second)


async def test_throttling_is_answered_by_pacing_and_retry_with_no_order_lost_or_doubled(
    kit: PollerKit, infra: InfraUrls, unique_name: str
) -> None:
    # getOrders at a second a request (Amazon's plan, scaled by 60), its burst of 20 used up by
    # another application of the same seller before Order Hub asks.
    app = create_mock_channels(
        MockChannelsSettings(seed_orders=0, control_api=True, amazon_usage_plan_scale=60)
    )
    transport = CountingTransport(app)
    channels = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mc")
    created = await create_orders(channels, Channel.AMAZON, 9)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|orderhub-simulator-refresh-token",
        "client_id": SIMULATOR_CLIENT_ID,
        "client_secret": SIMULATOR_CLIENT_SECRET,
    }
    token = (await channels.post("/amazon/auth/o2/token", data=form)).json()["access_token"]
    params = {"MarketplaceIds": "A21TJRUUN4KGV", "LastUpdatedAfter": "2020-01-01T00:00:00Z"}
    other_app = [
        (
            await channels.get(
                "/amazon/orders/v0/orders", params=params, headers={"x-amz-access-token": token}
            )
        ).status_code
        for _ in range(20)
    ]
    assert other_app == [200] * 20

    kit = kit_with(kit, infra, unique_name, transport)
    assert await poll(kit) == 9, "POLL_PAGE_SIZE 4: three pages, each after a wait"

    assert transport.answers[("orders", 429)] >= 1, "Amazon throttled the connector"
    ids = Counter(e.order.external_id for e in await published(kit))
    assert ids == Counter(created), "every order once"
    await channels.aclose()


async def test_a_flaky_channel_costs_no_page_its_item_reads_and_no_order_twice(
    kit: PollerKit, channels: httpx.AsyncClient, infra: InfraUrls, unique_name: str
) -> None:
    # A page of 20 orders is 22 calls (a restricted data token, getOrders, 20 getOrderItems):
    # with 30% of calls failing, all 22 at once succeed one time in 2,500.
    created = await create_orders(channels, Channel.AMAZON, 30)
    await channels.put("/_control/amazon/faults", json={"errorRate": 0.3})
    kit = kit_with(kit, infra, unique_name, kit.transport, POLL_PAGE_SIZE=20)
    poller = build_poller(
        Channel.AMAZON, kit.settings, kit.repository, kit.publisher, "replica-a", kit.transport
    )
    arrived: dict[str, set[str]] = {}
    for _ in range(15):
        assert await poller.lease.take_or_renew()
        await poller.poll()
        arrived = {}
        for event in await published(kit):
            arrived.setdefault(event.order.external_id, set()).add(event.order.model_dump_json())
        if set(arrived) == set(created):
            break
    await poller.feed.close()

    assert set(arrived) == set(created), "every order arrived"
    # A failed poll republishes the last good page once (the poller's fallback; orders dedupes
    # by event): the same copy again, never a second version of an order.
    assert all(len(copies) == 1 for copies in arrived.values())


async def test_a_refused_sign_in_is_said_in_plain_words_and_moves_nothing(
    kit: PollerKit, channels: httpx.AsyncClient, infra: InfraUrls, unique_name: str
) -> None:
    await create_orders(channels, Channel.AMAZON, 2)
    kit = kit_with(kit, infra, unique_name, kit.transport, AMAZON_LWA_REFRESH_TOKEN="Atzr|revoked")
    assert await poll(kit) == 0
    [status] = [
        s for s in await kit.repository.statuses(frozenset()) if s.channel == Channel.AMAZON
    ]
    assert status.last_error_kind == ApiErrorKind.EXPIRED_TOKEN
    assert status.last_error is not None
    assert "sign-in was refused" in status.last_error
    assert "invalid_grant" in status.last_error
    assert "Atzr|revoked" not in status.last_error, "never a credential"
    assert await published(kit) == []


async def test_the_sandbox_orders_are_ingested_normalized(
    kit: PollerKit, infra: InfraUrls, unique_name: str
) -> None:
    kit = kit_with(
        kit,
        infra,
        unique_name,
        kit.transport,
        AMAZON_SP_API_ENDPOINT="http://mock-channels/amazon/sandbox",
        AMAZON_MARKETPLACE_IDS="ATVPDKIKX0DER",
    )
    await poll(kit)

    events = await published(kit)
    [order] = {e.order.external_id: e.order for e in events}.values()
    assert order.external_id == "902-3159896-1390916"
    assert order.status == OrderStatus.PLACED
    assert order.placed_at.isoformat() == "2017-01-20T19:49:35+00:00"
    assert [(i.sku, i.qty, i.price) for i in order.items] == [("NABetaASINB00551Q3CS", 1, 10.0)]
    assert (order.total, order.currency) == (10.0, "USD")
    assert order.customer.name == "Amazon buyer", "the sandbox order carries no buyer details"
    status = [s for s in await kit.repository.statuses(frozenset()) if s.channel == Channel.AMAZON]
    assert status[0].last_error is None


async def test_the_first_connection_backfills_the_configured_days_and_shows_progress(
    kit: PollerKit, infra: InfraUrls, unique_name: str
) -> None:
    # 40 orders of a four-week history (updated over the last 28 days), the backfill one day.
    app = create_mock_channels(MockChannelsSettings(seed_orders=40, control_api=True))
    store = app.state.store
    started = datetime.now(UTC)
    history = store.page(Channel.AMAZON, since=None, after=None, limit=1000).orders
    kit = kit_with(kit, infra, unique_name, httpx.ASGITransport(app=app), INGEST_BACKFILL_DAYS=1)
    await poll(kit)

    ids = {e.order.external_id for e in await published(kit)}
    window = started - timedelta(days=1)
    surely_in = {o.external_id for o in history if o.updated_at >= window + timedelta(minutes=1)}
    surely_out = {o.external_id for o in history if o.updated_at < window - timedelta(minutes=1)}
    assert surely_out, "the seeded history reaches further back than the backfill"
    assert surely_in <= ids
    assert not surely_out & ids, "orders changed before the backfill window stay at the channel"
    [status] = [
        s for s in await kit.repository.statuses(frozenset()) if s.channel == Channel.AMAZON
    ]
    assert status.backfill is not None
    assert status.backfill.done
    assert (status.backfill.until - status.backfill.since) == timedelta(days=1)
    assert status.backfill_percent == 100.0


async def test_the_channels_say_which_connector_runs_and_an_admin_tests_it(
    ingest: httpx.AsyncClient,  # noqa: F811 - the fixture imported above
) -> None:
    rows = {row["channel"]: row for row in (await ingest.get("/channels")).json()}
    assert rows["amazon"]["connection"] == {
        "connector": "amazon-sp-api-orders-v0",
        "mode": "simulated",
        "sandbox": False,
    }
    assert rows["blinkit"]["connection"]["mode"] == "simulated"

    path = "/channels/amazon/connection-test"
    assert (await ingest.post(path, headers=TOKENS.bearer("viewer"))).status_code == 403
    tested = await ingest.post(path, headers=TOKENS.bearer("admin"))
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True
    assert "signed in" in tested.json()["detail"]
    assert "Atzr" not in tested.text
    assert "secret" not in tested.text
