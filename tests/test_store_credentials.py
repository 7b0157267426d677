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


def test_a_credentials_file_from_before_the_services_kafka_users_gets_theirs_added(
    tmp_path: Path,
) -> None:
    first = credentials.generated(tmp_path)
    path = tmp_path / credentials.FILE_NAME
    older = [
        line
        for line in path.read_text().splitlines()
        if line.partition("=")[0] not in credentials.KAFKA_SERVICE_PASSWORDS
    ]
    path.write_text("".join(f"{line}\n" for line in older))

    again = credentials.generated(tmp_path)

    kept = set(credentials.USERNAMES) | {
        "MONGODB_PASSWORD",
        "REDIS_PASSWORD",
        "KAFKA_SASL_PASSWORD",
    }
    assert {name: again[name] for name in kept} == {name: first[name] for name in kept}
    assert all(len(again[name]) >= 32 for name in credentials.KAFKA_SERVICE_PASSWORDS)
    assert credentials.generated(tmp_path) == again
    assert path.stat().st_mode & 0o777 == 0o600
