"""Which connector each channel runs, as the Channels API reports it (``info``)."""

import pytest

from ingest.connectors.base import ConnectorMode
from ingest.connectors.registry import build_connector
from ingest.settings import IngestSettings
from orderhub_common.events import Channel

pytestmark = pytest.mark.unit

SHOP = {"SHOPIFY_SHOP_URL": "https://orderhub-test.myshopify.com", "SHOPIFY_ADMIN_TOKEN": "shpat_x"}


async def test_each_channel_runs_its_own_connector_simulated_by_default() -> None:
    settings = IngestSettings.model_validate({"MOCK_CHANNELS_URL": "http://channels:8004"})
    infos = {}
    for channel in Channel:
        connector = build_connector(channel, settings)
        infos[channel] = connector.info
        await connector.close()

    assert infos[Channel.WEBSITE].connector == "shopify-admin-graphql"
    assert infos[Channel.WEBSITE].endpoint.rstrip("/") == "http://channels:8004/website"
    assert infos[Channel.AMAZON].connector == "amazon-sp-api-orders-v0"
    assert all(info.mode == ConnectorMode.SIMULATED for info in infos.values())
    assert not any(info.sandbox for info in infos.values())


async def test_the_website_is_live_against_the_shop_its_settings_name() -> None:
    connector = build_connector(Channel.WEBSITE, IngestSettings.model_validate(SHOP))
    info = connector.info
    await connector.close()

    assert (info.connector, info.mode) == ("shopify-admin-graphql", ConnectorMode.LIVE)
    assert info.endpoint.rstrip("/") == "https://orderhub-test.myshopify.com"
    assert "shpat_x" not in repr(info)
