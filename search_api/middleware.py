"""Plain ASGI middleware: security headers on every response, and a cap on request bodies.

Written as raw ASGI callables rather than `@app.middleware("http")`: Starlette's
BaseHTTPMiddleware wraps every response in an extra task and stream, which costs
milliseconds a request under concurrency, and the API's budget is 10% of a direct query.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    """Add `headers` to every HTTP response that does not already set them."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]):
        self.app = app
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Answer 413 to a request whose body is larger than `max_bytes` (declared or as it streams in)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # answer now; to the app the client has gone away
                    refused = True
                    await self._too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not refused:
                raise  # the app's own failure; after a refusal, only its ClientDisconnect can land here

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": f"the request body is larger than {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _host_and_port(netloc: str, scheme: str) -> str:
    """`netloc` lower-cased, without the scheme's default port (so `x:443` over https is `x`)."""
    netloc = netloc.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(f":{default}"):
        return netloc[: -len(default) - 1]
    return netloc


def cross_origin_reason(method: str, headers: dict[bytes, bytes], session_cookie: str) -> str | None:
    """Why a request that changes state must be refused as cross-origin, or None if it may go on.

    A browser attaches the session cookie to a request from any page of the same *site* (SameSite
    does not tell a sibling subdomain or another port from Lantern), so a request that changes
    state and is not authenticated by an API key must prove it came from Lantern's own page:
    `Sec-Fetch-Site: same-origin`, or an `Origin` equal to the `Host` it was sent to. A request
    that a browser marks as coming from elsewhere is refused even without a cookie (a forged
    login, or a write to an instance with authentication off). Bearer-key requests are not
    affected: a page cannot make a browser send someone's API key.
    """
    if method in SAFE_METHODS or b"authorization" in headers:
        return None
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").lower()
    if fetch_site == "same-origin":
        return None
    if fetch_site:
        return f"the browser says this request came from another site ({fetch_site})"
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin:
        scheme, _, netloc = origin.partition("://")
        host = headers.get(b"host", b"").decode("latin-1")
        if origin == "null" or not host or _host_and_port(netloc, scheme.lower()) != _host_and_port(host, scheme.lower()):
            return f"it came from the page at {origin}, not from this server"
        return None
    cookies = headers.get(b"cookie", b"").decode("latin-1")
    if any(part.strip().startswith(f"{session_cookie}=") for part in cookies.split(";")):
        return "it uses the session cookie but does not say where it came from (no Origin or Sec-Fetch-Site header)"
    return None


class SameOriginWrites:
    """Refuse (403) state-changing requests that `cross_origin_reason` finds came from another origin.

    `on_refusal(scope, reason)`, if given, is awaited first (the app uses it to audit the attempt).
    """

    def __init__(self, app: ASGIApp, session_cookie: str, on_refusal=None):
        self.app = app
        self.session_cookie = session_cookie
        self.on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            reason = cross_origin_reason(scope["method"], dict(scope.get("headers", [])), self.session_cookie)
            if reason is not None:
                if self.on_refusal is not None:
                    await self.on_refusal(scope, reason)
                body = json.dumps({"detail": f"cross-origin request refused: {reason}. Use Lantern's own page, "
                                             "or an API key (Authorization: Bearer ...)"}).encode()
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
