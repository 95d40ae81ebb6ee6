"""Serve the three fakes, each on its own port, and say where they are."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web

from . import cartesia_tts, deepgram_stt, openai_llm
from .accounts import Accounts
from .latency import Latency
from .script import Script


@dataclass(frozen=True)
class FakeEndpoints:
    llm: str  # http://host:port
    stt: str
    tts: str

    def env(self) -> dict[str, str]:
        """Worker environment that points the three LiveKit plugins at the fakes."""
        return {
            "OPENAI_BASE_URL": f"{self.llm}/v1",
            "OPENAI_API_KEY": "fake-openai-key",
            "DEEPGRAM_BASE_URL": f"{self.stt}/v1/listen",
            "DEEPGRAM_FLUX_BASE_URL": f"{self.stt}/v2/listen",
            "DEEPGRAM_API_KEY": "fake-deepgram-key",
            "CARTESIA_BASE_URL": self.tts,
            "CARTESIA_API_KEY": "fake-cartesia-key",
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FakeEndpoints:
        return cls(**json.loads(text))


async def _site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[union-attr]
    bound = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://{host}:{bound}"


async def serve(
    script: Script,
    *,
    host: str = "127.0.0.1",
    llm_port: int = 0,
    stt_port: int = 0,
    tts_port: int = 0,
    tts_voice: str = "tone",
    ready_file: Path | None = None,
    stop: asyncio.Event | None = None,
    latency: Latency | None = None,
    accounts: dict[str, Accounts] | None = None,
) -> None:
    """Run until `stop` is set (forever if None). The three fakes share `latency`: a change
    posted to any one's /_fake/latency applies to all. `accounts` ("llm", "stt", "tts"): what
    each fake's account knows (fakes/accounts.py; default: anything)."""
    accounts = accounts or {}
    latency = latency or Latency()
    runners = []
    try:
        llm_runner, llm_url = await _site(openai_llm.create_app(
            script, latency=latency, accounts=accounts.get("llm")), host, llm_port)
        runners.append(llm_runner)
        stt_runner, stt_url = await _site(deepgram_stt.create_app(
            script, latency=latency, accounts=accounts.get("stt")), host, stt_port)
        runners.append(stt_runner)
        tts_runner, tts_url = await _site(cartesia_tts.create_app(
            voice=tts_voice, latency=latency, accounts=accounts.get("tts")), host, tts_port)
        runners.append(tts_runner)
        endpoints = FakeEndpoints(llm=llm_url, stt=stt_url, tts=tts_url)
        if ready_file is not None:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(endpoints.to_json())
            tmp.replace(ready_file)
        print(f"fakes ready: {endpoints.to_json()}", flush=True)
        await (stop or asyncio.Event()).wait()
    finally:
        for runner in runners:
            await runner.cleanup()
