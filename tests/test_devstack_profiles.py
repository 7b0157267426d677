"""What the local stack's profiles turn on for the services: the mock channels' control API is
on in the development (``make up``) and test stacks, which rely on it, and nowhere else (issue
21, finding 11)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devstack import profiles
from mock_channels.settings import MockChannelsSettings
from orderhub_common.settings import load_settings

pytestmark = pytest.mark.unit


def mock_channels_settings(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> MockChannelsSettings:
    """The settings the mock channels would start with in this profile's environment."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return load_settings(MockChannelsSettings)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with only .env.example, as after a fresh clone."""
    shutil.copyfile(profiles.REPO / ".env.example", tmp_path / ".env.example")
    monkeypatch.setattr(profiles, "REPO", tmp_path)
    monkeypatch.delenv(profiles.CONTROL_API_VARIABLE, raising=False)
    monkeypatch.delenv("ORDERHUB_ENV", raising=False)
    return tmp_path


def test_the_test_stack_serves_the_control_api(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = mock_channels_settings(profiles.test_profile().environment, monkeypatch)

    assert settings.control_api is True


def test_the_development_stack_serves_the_control_api_unless_env_turns_it_off(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        assert mock_channels_settings(profiles.local_profile().environment, patch).control_api

    (repo / ".env").write_text("MOCK_CHANNELS_CONTROL_API=false\n")
    with monkeypatch.context() as patch:
        local = profiles.local_profile().environment
        assert not mock_channels_settings(local, patch).control_api


def test_a_production_local_stack_starts_its_mock_channels_without_the_control_api(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".env").write_text("ORDERHUB_ENV=production\n")

    settings = mock_channels_settings(profiles.local_profile().environment, monkeypatch)

    assert settings.environment == "production"
    assert settings.control_api is False
