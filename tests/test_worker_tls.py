"""One TLS context per worker process (worker/tls.py): a call's start parses no CA bundle.

Each "call" below is what a job process does at call start, in a process forked as LiveKit's
forkserver forks job processes: the job's http session and the LiveKit API client on it (main.py's
`ctx.api`), and the session's OpenAI LLM (worker/providers.py). Every way a CA bundle is read
into an `SSLContext` is counted in the forked process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import ssl
import time
from typing import Any

from pydantic import SecretStr

from config import Settings
from worker import providers, tls

_LOADS = ("load_verify_locations", "load_default_certs", "set_default_verify_paths")


def _call_start(queue: Any) -> None:
    """In the forked process: count CA-bundle loads while a call's clients are built."""
    loads = []
    for name in _LOADS:
        original = getattr(ssl.SSLContext, name)

        def counted(self: ssl.SSLContext, *a: Any, _o: Any = original, _n: str = name,
                    **k: Any) -> Any:
            loads.append(_n)
            return _o(self, *a, **k)

        setattr(ssl.SSLContext, name, counted)

    async def start() -> tuple[int, float, bool]:
        from livekit import api
        from livekit.agents.utils import http_context

        http_context._new_session_ctx()  # what LiveKit does in every job process
        t0 = time.perf_counter()
        session = http_context.http_session()
        lk = api.LiveKitAPI("http://127.0.0.1:1", "key", "secret" * 6, session=session)
        settings = Settings(openai_api_key=SecretStr("k"), deepgram_api_key=SecretStr("k"),
                            cartesia_api_key=SecretStr("k"),
                            openai_base_url="http://127.0.0.1:1/v1")
        model = providers.build_llm(settings, providers.ProviderSettings())
        elapsed = time.perf_counter() - t0
        shared = session.connector._ssl is tls.client_ssl_context()  # type: ignore[union-attr]
        await model.aclose()
        await lk.aclose()
        await session.close()
        return len(loads), elapsed, shared

    queue.put(asyncio.run(start()))


def _forked_call() -> tuple[int, float, bool]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_call_start, args=(queue,))
    proc.start()
    result = queue.get(timeout=60)
    proc.join(30)
    assert proc.exitcode == 0
    return result  # type: ignore[no-any-return]


def test_two_calls_forked_after_the_warm_up_build_no_tls_context() -> None:
    tls.warm()  # what worker/preload.py does in the forkserver (and main.prewarm after it)
    first, second = _forked_call(), _forked_call()
    for loads, _, shared in (first, second):
        assert loads == 0, "a call parsed a CA bundle on its own loop"
        assert shared, "the job's http session (LiveKit API client) has its own context"


def test_without_the_warm_up_each_call_would_build_its_own() -> None:
    from livekit.agents.utils import http_context

    tls.client_ssl_context.cache_clear()
    http_context._ssl_context_for.cache_clear()  # a forkserver that warmed nothing
    try:
        loads, _, _ = _forked_call()
        assert loads >= 1  # the counting sees the per-call build this module removes
    finally:
        tls.warm()


def test_the_openai_client_is_closed_with_its_llm() -> None:
    settings = Settings(openai_api_key=SecretStr("k"), deepgram_api_key=SecretStr("k"),
                        cartesia_api_key=SecretStr("k"))

    async def run() -> bool:
        model = providers.build_llm(settings, providers.ProviderSettings())
        inner = model.inner._llm_instances[0]  # type: ignore[attr-defined]
        await inner.aclose()  # LiveKit's fallback adapter leaves its LLMs open, as before
        return bool(inner._client.is_closed())

    assert asyncio.run(run())
