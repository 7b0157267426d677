"""The local stack's store credentials: generated once into a private file, then read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import credentials
from devstack.install import REPO
from orderhub_common.settings import DEVELOPMENT_SECRETS

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


def test_postgres_passwords_are_generated_never_the_ones_the_docs_print(tmp_path: Path) -> None:
    values = credentials.generated(tmp_path)
    text = (tmp_path / credentials.FILE_NAME).read_text()

    for name in ("POSTGRES_PASSWORD", "POSTGRES_OWNER_PASSWORD"):
        assert f"{name}={values[name]}\n" in text
        assert values[name] not in DEVELOPMENT_SECRETS
        assert values[name] not in (REPO / "README.md").read_text()
        assert values[name] not in (REPO / ".env.example").read_text()
    assert values["POSTGRES_PASSWORD"] != values["POSTGRES_OWNER_PASSWORD"]
    assert (tmp_path / credentials.FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_a_file_from_before_a_store_needed_a_password_gains_it_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    tmp_path.chmod(0o700)
    older = {name: credentials.USERNAME for name in credentials.USERNAMES} | {
        "MONGODB_PASSWORD": "kept-mongodb",
        "REDIS_PASSWORD": "kept-redis",
        "KAFKA_SASL_PASSWORD": "kept-kafka",
    }
    path = tmp_path / credentials.FILE_NAME
    path.write_text("".join(f"{key}={value}\n" for key, value in older.items()))
    path.chmod(0o600)

    values = credentials.generated(tmp_path)

    assert {key: values[key] for key in older} == older
    assert len(values["POSTGRES_PASSWORD"]) >= 32
    assert credentials.generated(tmp_path) == values  # written down, read back the same
    assert path.stat().st_mode & 0o777 == 0o600
