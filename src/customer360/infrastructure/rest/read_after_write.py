"""Read-your-writes at the edge (``application.consistency``): the caller's floor comes in, the position
of this request's commit goes out.

A write answered while a read replica is configured carries ``X-Read-After: <position>`` and the same
value as a cookie (browsers, the console); a later request sending either back is read from a replica
only once that replica has replayed the position, else from the primary. A malformed value is ignored
(the read goes wherever a request without one would): the value is a hint about freshness, never data.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.types import Message, Receive, Scope, Send

from customer360.application import consistency
from customer360.infrastructure.asgi import HttpMiddleware

HEADER = b"x-read-after"
COOKIE = "c360-read-after"
# Long enough for any replica that is not broken; a replica further behind is taken out by the routing.
COOKIE_SECONDS = 300


class ReadAfterWrite(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        floor = consistency.begin(requested_floor(scope))

        async def send_position(message: Message) -> None:
            if message["type"] == "http.response.start" and floor.written is not None:
                value = consistency.format_position(floor.written)
                cookie = f"{COOKIE}={value}; Max-Age={COOKIE_SECONDS}; Path=/; HttpOnly; SameSite=Lax"
                message["headers"] = [
                    *message.get("headers", []),
                    (HEADER, value.encode()),
                    (b"set-cookie", cookie.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_position)


def requested_floor(scope: Scope) -> int | None:
    """The highest position the request names, in X-Read-After or the cookie."""
    positions = []
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            positions.append(consistency.parse_position(value.decode("latin-1")))
        elif name == b"cookie":
            try:
                morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            except CookieError:
                continue
            if morsel is not None:
                positions.append(consistency.parse_position(morsel.value))
    known = [p for p in positions if p is not None]
    return max(known) if known else None
