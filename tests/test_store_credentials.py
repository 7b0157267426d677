"""The local stack's store credentials: generated once into a private file, then read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import credentials

pytestmark = pytest.mark.unit


def test_credentials_are_generated_once_into_a_private_file_and_read_back(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    first = credentials.generated(secrets)
    again = credentials.generated(secrets)

    assert again == first
    assert set(first) == {*credentials.USERNAMES, *credentials.PASSWORDS}
    passwords = [first[name] for name in credentials.PASSWORDS]
    assert len(set(passwords)) == len(passwords)  # one password per store
    assert all(len(password) >= 32 for password in passwords)
    assert (secrets / credentials.FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert secrets.stat().st_mode & 0o777 == 0o700


def test_a_credentials_file_others_can_read_is_refused(tmp_path: Path) -> None:
    credentials.generated(tmp_path)
    (tmp_path / credentials.FILE_NAME).chmod(0o644)
    with pytest.raises(SystemExit, match="readable by others"):
        credentials.generated(tmp_path)
