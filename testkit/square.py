"""The fake Square and Twilio (fakes/square.py, fakes/twilio.py) served on loopback for a test,
and the official SDKs pointed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from fakes import square as fake_square


@dataclass
class FakeSquare:
    url: str
    state: fake_square.SquareState

    async def fault(self, mode: str, delay_s: float = 5.0) -> None:
        """Through the fake's own HTTP control path, as another process would."""
        async with httpx.AsyncClient() as c:
            r = await c.post(f"{self.url}/_fake/square/faults",
                             json={"mode": mode, "delay_s": delay_s})
            r.raise_for_status()

    def orders(self) -> list[dict[str, Any]]:
        return list(self.state.orders.values())

    def env(self, outbox: str) -> dict[str, str]:
        return {"SQUARE_ACCESS_TOKEN": self.state.token, "SQUARE_BASE_URL": self.url,
                "SQUARE_LOCATION_ID": fake_square.DEFAULT_LOCATION, "POS_OUTBOX_PATH": outbox}


@asynccontextmanager
async def serve_square() -> AsyncIterator[FakeSquare]:
    state = fake_square.SquareState()
    runner = web.AppRunner(fake_square.create_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield FakeSquare(f"http://127.0.0.1:{port}", state)
    finally:
        await runner.cleanup()


@dataclass
class FakeTwilio:
    url: str
    state: Any  # fakes.twilio.TwilioState

    def client(self) -> Any:
        """The official SDK, asynchronous, pointed at the fake."""
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client

        c = Client(self.state.account_sid, self.state.auth_token,
                   http_client=AsyncTwilioHttpClient())
        c.api.base_url = self.url
        return c


@asynccontextmanager
async def serve_twilio() -> AsyncIterator[FakeTwilio]:
    from fakes import twilio as fake_twilio

    state = fake_twilio.TwilioState()
    runner = web.AppRunner(fake_twilio.create_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield FakeTwilio(f"http://127.0.0.1:{port}", state)
    finally:
        await runner.cleanup()
