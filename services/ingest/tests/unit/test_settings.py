import pytest
from pydantic import ValidationError

from ingest.settings import IngestSettings
from orderhub_common.events import Channel

pytestmark = pytest.mark.unit


def test_paused_channels_are_read_from_a_comma_separated_list() -> None:
    settings = IngestSettings.model_validate({"INGEST_PAUSED_CHANNELS": " amazon, blinkit "})
    assert settings.paused_by_config == {Channel.AMAZON, Channel.BLINKIT}
    assert IngestSettings.model_validate({}).paused_by_config == frozenset()


def test_an_unknown_paused_channel_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="ebay"):
        IngestSettings.model_validate({"INGEST_PAUSED_CHANNELS": "amazon,ebay"})
