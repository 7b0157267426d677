"""``auth-keygen``: makes a signing key for ``JWT_PRIVATE_KEYS`` (see the rotation procedure in
services/auth/README.md). Prints a JWK Set; with ``--append`` the set already in
``JWT_PRIVATE_KEYS`` plus the new key, which becomes the last one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any, get_args

from auth.keys import SigningKeyError, SigningKeys, generate_signing_key
from orderhub_common.security import JwtAlgorithm


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="auth-keygen", description=__doc__)
    parser.add_argument("--kid", default=datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"))
    parser.add_argument("--algorithm", choices=get_args(JwtAlgorithm), default="Ed25519")
    parser.add_argument("--append", action="store_true", help="add to the set in JWT_PRIVATE_KEYS")
    args = parser.parse_args(argv)

    keys: list[dict[str, Any]] = []
    if args.append:
        existing = os.environ.get("JWT_PRIVATE_KEYS")
        if not existing:
            raise SystemExit("auth-keygen: --append needs JWT_PRIVATE_KEYS in the environment")
        try:
            SigningKeys.parse(existing, algorithm=args.algorithm)
        except SigningKeyError as exc:
            raise SystemExit(f"auth-keygen: JWT_PRIVATE_KEYS: {exc}") from None
        keys = json.loads(existing)["keys"]
    if any(key.get("kid") == args.kid for key in keys):
        raise SystemExit(f"auth-keygen: kid {args.kid!r} is already in the set")
    keys.append(dict(generate_signing_key(args.algorithm, args.kid).as_dict(private=True)))
    json.dump({"keys": keys}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
