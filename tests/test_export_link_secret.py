"""The local stack's key for orders' export download links: generated on first start into a
private file, never the development default that .env.example (and so every clone) shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from devstack import credentials, profiles
from devstack.install import REPO
from orderhub_common.settings import DEVELOPMENT_SECRETS

pytestmark = pytest.mark.unit


def test_the_export_link_secret_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    first = credentials.generated_export_link_secret(secrets)
    again = credentials.generated_export_link_secret(secrets)

    assert again == first
    secret = first["ORDERS_EXPORT_LINK_SECRET"]
    assert len(secret) >= 32
    assert secret not in DEVELOPMENT_SECRETS
    assert credentials.generated_export_link_secret(tmp_path / "other") != first
    assert (secrets / credentials.EXPORT_LINK_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert secrets.stat().st_mode & 0o777 == 0o700


def test_an_export_link_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    credentials.generated_export_link_secret(tmp_path)
    (tmp_path / credentials.EXPORT_LINK_FILE_NAME).chmod(0o644)
    with pytest.raises(SystemExit, match="readable by others"):
        credentials.generated_export_link_secret(tmp_path)


def test_the_local_stack_signs_export_links_with_its_generated_key_not_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh clone: .env copied from .env.example, which names the development default.
    shutil.copyfile(REPO / ".env.example", tmp_path / ".env.example")
    monkeypatch.setattr(profiles, "REPO", tmp_path)
    monkeypatch.delenv("ORDERS_EXPORT_LINK_SECRET", raising=False)

    environment = profiles.local_profile().environment

    generated = (tmp_path / ".data" / "secrets" / credentials.EXPORT_LINK_FILE_NAME).read_text()
    assert environment["ORDERS_EXPORT_LINK_SECRET"] not in DEVELOPMENT_SECRETS
    assert generated == f"ORDERS_EXPORT_LINK_SECRET={environment['ORDERS_EXPORT_LINK_SECRET']}\n"
