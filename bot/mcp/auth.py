"""Who an MCP caller is: over HTTP the person whose bearer token it sent (settings `mcp.tokens`), over stdio the
configured identity. An unknown token is no one: the SDK's bearer middleware answers it 401."""

from __future__ import annotations

import hmac
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from bot.settings import McpToken


class Tokens:
    """The SDK's TokenVerifier over the configured tokens: the access token's client_id is the person's identity."""

    def __init__(self, tokens: list[McpToken]):
        self._tokens = [(t.token.get_secret_value().encode(), t.identity) for t in tokens]

    async def verify_token(self, token: str) -> AccessToken | None:
        sent = token.encode()
        found = None
        for known, identity in self._tokens:  # every token compared, in constant time: no early exit to time
            if hmac.compare_digest(known, sent):
                found = identity
        return AccessToken(token="", client_id=found, scopes=[]) if found else None


def identity_of(request: Any) -> str | None:
    """The identity the HTTP request authenticated as (None: no request, or one the middleware did not admit)."""
    user = request.scope.get("user") if request is not None else None
    return user.access_token.client_id if isinstance(user, AuthenticatedUser) else None
