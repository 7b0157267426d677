from __future__ import annotations

import json

import pytest

from auth.keygen import main
from auth.keys import SigningKeys

pytestmark = pytest.mark.unit


def generated(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    main(list(args))
    return capsys.readouterr().out


def test_a_new_key_set_is_usable_as_jwt_private_keys(capsys: pytest.CaptureFixture[str]) -> None:
    output = generated(capsys, "--kid", "2026-01")

    assert SigningKeys.parse(output, algorithm="Ed25519").active_kid == "2026-01"


def test_appending_keeps_the_old_key_and_makes_the_new_one_last(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_PRIVATE_KEYS", generated(capsys, "--kid", "2026-01"))

    rotated = generated(capsys, "--kid", "2026-02", "--append")

    assert [key["kid"] for key in json.loads(rotated)["keys"]] == ["2026-01", "2026-02"]
    assert SigningKeys.parse(rotated, algorithm="Ed25519").active_kid == "2026-02"


def test_a_kid_is_never_reused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_PRIVATE_KEYS", generated(capsys, "--kid", "2026-01"))

    with pytest.raises(SystemExit, match="already in the set"):
        main(["--kid", "2026-01", "--append"])
