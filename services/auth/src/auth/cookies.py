"""The SPA's session cookie: the refresh token where no script can read it, guarded from CSRF.

The refresh token travels in ``orderhub_refresh`` (``HttpOnly; Secure; SameSite=Strict``, path
``AUTH_COOKIE_PATH``: only the auth routes ever receive it). Refresh and sign-out by cookie also
need the ``X-CSRF-Token`` header to equal the readable cookie ``orderhub_csrf``, whose value is
derived from the refresh token (a keyed hash no other site can compute or read): a request
another site makes the browser send carries the cookie but never the header. API clients send
the refresh token in the body instead, and need no cookie.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from auth.errors import CsrfError

REFRESH_COOKIE = "orderhub_refresh"
CSRF_COOKIE = "orderhub_csrf"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token_for(refresh_token: str) -> str:
    return hmac.new(b"orderhub-csrf", refresh_token.encode(), hashlib.sha256).hexdigest()


class SessionCookies:
    def __init__(self, *, path: str, secure: bool, max_age_s: int) -> None:
        self._path = path
        self._secure = secure
        self._max_age_s = max_age_s

    def set(self, response: Response, refresh_token: str) -> None:
        response.set_cookie(
            REFRESH_COOKIE,
            refresh_token,
            max_age=self._max_age_s,
            path=self._path,
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf_token_for(refresh_token),
            max_age=self._max_age_s,
            path="/",
            secure=self._secure,
            httponly=False,
            samesite="strict",
        )

    def clear(self, response: Response) -> None:
        for name, path in ((REFRESH_COOKIE, self._path), (CSRF_COOKIE, "/")):
            response.delete_cookie(
                name,
                path=path,
                secure=self._secure,
                httponly=name == REFRESH_COOKIE,
                samesite="strict",
            )

    @staticmethod
    def refresh_token(request: Request, from_body: str | None) -> str | None:
        """The token in the body; else the cookie's, if the CSRF header matches it (else 403)."""
        if from_body is not None:
            return from_body
        cookie = request.cookies.get(REFRESH_COOKIE)
        if not cookie:
            return None
        header = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(header.encode(), csrf_token_for(cookie).encode()):
            raise CsrfError()
        return cookie
