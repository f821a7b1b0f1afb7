"""Limits on every request, as plain ASGI middleware (no per-request task): 413 for bodies
above the configured size, 429 for floods (a token bucket per client address), and an
``Allow`` header on 405 listing every method of the path."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.responses import JSONResponse

from .settings import Settings

__all__ = ["Limits"]


class Limits:
    """413, 429 and 405's ``Allow``; see the module docstring."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def _take(self, key: str) -> bool:
        """Take one token from the client's bucket; False when it is empty."""
        s = self.settings
        now = time.monotonic()
        with self.lock:
            if len(self.buckets) > 10_000:  # forget clients idle for a minute
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}
            tokens, last = self.buckets.get(key, (float(s.burst), now))
            tokens = min(float(s.burst), tokens + (now - last) * s.rate_per_s)
            self.buckets[key] = (tokens - 1.0 if tokens >= 1.0 else tokens, now)
        return tokens >= 1.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        # per client address: made-up tokens must not each get a fresh bucket
        if not self._take(client[0] if client else "?"):
            retry = str(max(1, round(1 / s.rate_per_s)))
            response = JSONResponse(
                {"detail": "too many requests; slow down"},
                status_code=429,
                headers={"Retry-After": retry},
            )
            await response(scope, receive, send)
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > s.max_body_bytes:
            response = JSONResponse(
                {"detail": f"body larger than {s.max_body_bytes} bytes"}, status_code=413
            )
            await response(scope, receive, send)
            return

        async def send_with_allow(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods: set[str] = set()
                for route in scope["app"].routes:
                    match, _ = route.matches({**scope, "method": "GET"})
                    if match.name != "NONE" and getattr(route, "methods", None):
                        methods |= set(route.methods)
                extra = [(b"allow", ", ".join(sorted(methods)).encode())]
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_allow)
