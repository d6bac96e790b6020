"""Bearer tokens: which paths need one, and a comparison that takes the same time however much
of a wrong token matches."""

from __future__ import annotations

import hmac

PROTECTED_PREFIXES = ("/api/", "/metrics")
"""Probes (/healthz, /readyz) and the API's documentation stay open."""


def needs_token(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIXES) or path == "/api"


def authorized(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
