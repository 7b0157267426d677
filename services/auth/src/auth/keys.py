"""The keys access tokens are signed with, and the public half every verifier fetches.

Configured keys come from ``JWT_PRIVATE_KEYS`` (a JWK Set). During a rotation the set holds the
old and the new key: both are published, the active one signs. Without configured keys
(development and tests only; production settings refuse it) one key is generated on first start
into the secret file ``JWT_PRIVATE_KEYS_FILE`` (mode 0600, never in a database, which anyone
able to reach the store could read), so restarts and replicas keep signing with, and publishing,
the same key. Without that file either, the key lives in the process only.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeyParameters, OKPKey, RSAKey, import_key

from orderhub_common.errors import ServiceUnavailableError
from orderhub_common.resources import Resource
from orderhub_common.security import KEY_TYPE_BY_ALGORITHM, JwtAlgorithm


class SigningKeyError(ValueError):
    """The configured signing keys cannot be used."""


@dataclass(frozen=True)
class SigningKeys:
    active: Key
    published: tuple[Key, ...]

    @property
    def active_kid(self) -> str:
        assert self.active.kid is not None
        return self.active.kid

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [dict(key.as_dict(private=False)) for key in self.published]}

    @classmethod
    def from_jwk_set(
        cls, jwk_set: dict[str, Any], *, algorithm: JwtAlgorithm, active_kid: str | None = None
    ) -> SigningKeys:
        entries = jwk_set.get("keys")
        if not isinstance(entries, list) or not entries:
            raise SigningKeyError("the JWK Set holds no keys")
        keys = tuple(_private_key(entry, algorithm) for entry in entries)
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise SigningKeyError("two signing keys share a kid")
        chosen = kids[-1] if active_kid is None else active_kid
        if chosen not in kids:
            raise SigningKeyError(f"JWT_ACTIVE_KID {chosen!r} is not among the signing keys")
        return cls(active=keys[kids.index(chosen)], published=keys)

    @classmethod
    def parse(
        cls, jwk_set_json: str, *, algorithm: JwtAlgorithm, active_kid: str | None = None
    ) -> SigningKeys:
        try:
            jwk_set = json.loads(jwk_set_json)
        except json.JSONDecodeError as exc:
            raise SigningKeyError(f"JWT_PRIVATE_KEYS is not JSON: {exc.msg}") from None
        if not isinstance(jwk_set, dict):
            raise SigningKeyError("JWT_PRIVATE_KEYS must be a JWK Set object")
        return cls.from_jwk_set(jwk_set, algorithm=algorithm, active_kid=active_kid)


def _private_key(entry: object, algorithm: JwtAlgorithm) -> Key:
    if not isinstance(entry, dict):
        raise SigningKeyError("each signing key must be a JWK object")
    if entry.get("kty") != KEY_TYPE_BY_ALGORITHM[algorithm]:
        raise SigningKeyError(f"key {entry.get('kid')!r} does not fit the {algorithm} algorithm")
    if not isinstance(entry.get("kid"), str) or not entry["kid"]:
        raise SigningKeyError("every signing key needs a kid")
    try:
        key = import_key(entry)
    except (JoseError, ValueError) as exc:
        raise SigningKeyError(f"key {entry['kid']!r} is invalid: {exc}") from None
    if not key.is_private:
        raise SigningKeyError(f"key {entry['kid']!r} has no private part")
    return key


def generate_signing_key(algorithm: JwtAlgorithm, kid: str) -> Key:
    parameters: KeyParameters = {"kid": kid, "use": "sig", "alg": algorithm}
    if algorithm == "Ed25519":
        return OKPKey.generate_key("Ed25519", parameters=parameters)
    if algorithm == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters)
    return RSAKey.generate_key(2048, parameters=parameters)


def load_or_create_key_file(path: Path, candidate: Key) -> dict[str, Any]:
    """The JWK Set in the secret file ``path``; first writes ``candidate`` into it if the file
    does not exist (created 0600, exclusively: of two replicas starting at once, one key wins).
    A file that others than its owner may read or write is refused."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            json.dump({"keys": [dict(candidate.as_dict(private=True))]}, file)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"{path} is readable or writable by others (mode {stat.filemode(mode)}): chmod 600 it"
        )
    try:
        jwk_set = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SigningKeyError(f"{path} is not JSON: {exc.msg}") from None
    if not isinstance(jwk_set, dict):
        raise SigningKeyError(f"{path} must hold a JWK Set object")
    return jwk_set


class SigningKeysResource(Resource):
    """Loads the signing keys at start; the service is not ready without them."""

    name = "signing_keys"

    def __init__(self, load: Callable[[], Awaitable[SigningKeys]]) -> None:
        self._load = load
        self._keys: SigningKeys | None = None

    @property
    def keys(self) -> SigningKeys:
        if self._keys is None:
            raise ServiceUnavailableError("signing keys are not loaded yet")
        return self._keys

    async def connect(self) -> None:
        self._keys = await self._load()
        self.target = f"active kid {self._keys.active_kid}"

    async def ping(self) -> None:
        if self._keys is None:
            raise ServiceUnavailableError("signing keys are not loaded")

    async def close(self) -> None:
        self._keys = None
