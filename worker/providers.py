"""The session's speech-to-text, LLM and text-to-speech, each behind LiveKit's fallback adapter.

A caller on the phone must never sit in silence because one provider is slow or down:

* every provider gets a short per-attempt timeout and no silent retries (`max_retry=0` on the
  session), so a failing primary hands over to the configured fallback at once;
* the LLM is wrapped in `HoldTheLine`: if no token has arrived after `HOLD_LINE_AFTER_S`, the
  caller hears "One moment." while the fallback is tried;
* when every provider of a kind has failed, the session emits an unrecoverable error and
  `agents.recovery.CallGuard` apologises and gets the caller to a person or a message.

Each fallback is optional and configured next to its primary (empty means unset; the
variables are read with the rest of the configuration, `config.ProviderSettings`):

    OPENAI_FALLBACK_MODEL / OPENAI_FALLBACK_BASE_URL / OPENAI_FALLBACK_API_KEY
    DEEPGRAM_FALLBACK_MODEL / DEEPGRAM_FALLBACK_BASE_URL / DEEPGRAM_FALLBACK_API_KEY
    CARTESIA_FALLBACK_MODEL / CARTESIA_FALLBACK_BASE_URL / CARTESIA_FALLBACK_API_KEY /
        CARTESIA_FALLBACK_VOICE_ID
    LLM_ATTEMPT_TIMEOUT_S (1.5), STT_ATTEMPT_TIMEOUT_S (3), TTS_ATTEMPT_TIMEOUT_S (2),
    HOLD_LINE_AFTER_S (1.2; 0 turns the hold line off)

A fallback is used when its MODEL or BASE_URL is set; what is not set is taken from the
primary (so `OPENAI_FALLBACK_MODEL=gpt-4.1-mini` alone means "the same endpoint, another model").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from livekit.agents import APIConnectOptions, llm, stt, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.voice.agent_session import SessionConnectOptions
from pydantic import SecretStr

from config import ProviderSettings, Settings

T = TypeVar("T")

HOLD_TEXT = "One moment. "

# ---------------------------------------------------------------- building the providers


@dataclass(frozen=True)
class Endpoint:
    """One provider of a chain: the model (and voice), its key and where it is reached."""

    model: str
    api_key: str
    base_url: str | None
    voice: str = ""


def _fallback(configured: bool, primary: Endpoint, model: str | None,
              api_key: SecretStr | None, base_url: str | None,
              voice: str | None = None) -> Endpoint | None:
    """The fallback when one is configured; whatever it leaves unset is the primary's."""
    if not configured:
        return None
    return Endpoint(model or primary.model,
                    api_key.get_secret_value() if api_key else primary.api_key,
                    base_url or primary.base_url, voice or primary.voice)


def _chain(make: Callable[[Endpoint], T], primary: Endpoint, fallback: Endpoint | None) -> list[T]:
    return [make(primary)] + ([make(fallback)] if fallback else [])


def llm_endpoints(settings: Settings, fb: ProviderSettings) -> tuple[Endpoint, Endpoint | None]:
    """The LLM chain's primary and its fallback (None: not configured); the calls' chain and
    `main.py check` (worker/provider_check.py) are built from it."""
    primary = Endpoint(settings.openai_model, settings.openai_api_key.get_secret_value(),
                       settings.openai_base_url)
    return primary, _fallback(
        fb.has_llm_fallback, primary, fb.openai_fallback_model, fb.openai_fallback_api_key,
        fb.openai_fallback_base_url)


def stt_endpoints(settings: Settings, fb: ProviderSettings) -> tuple[Endpoint, Endpoint | None]:
    primary = Endpoint(settings.deepgram_model, settings.deepgram_api_key.get_secret_value(),
                       settings.deepgram_base_url)
    return primary, _fallback(
        fb.has_stt_fallback, primary, fb.deepgram_fallback_model, fb.deepgram_fallback_api_key,
        fb.deepgram_fallback_base_url)


def tts_endpoints(settings: Settings, fb: ProviderSettings,
                  voice: str | None = None) -> tuple[Endpoint, Endpoint | None]:
    primary = Endpoint(settings.cartesia_model, settings.cartesia_api_key.get_secret_value(),
                       settings.cartesia_base_url, voice or settings.cartesia_voice_id)
    # The fallback speaks with its own voice, else the default voice (not the language's).
    return primary, _fallback(
        fb.has_tts_fallback, primary, fb.cartesia_fallback_model, fb.cartesia_fallback_api_key,
        fb.cartesia_fallback_base_url, fb.cartesia_fallback_voice_id or settings.cartesia_voice_id)


def _given(value: str | None) -> dict[str, str]:
    return {"base_url": value} if value else {}


def build_llm(settings: Settings, fb: ProviderSettings) -> llm.LLM:
    from livekit.plugins import openai

    def make(e: Endpoint) -> llm.LLM:
        model = openai.LLM(model=e.model, parallel_tool_calls=False,
                           client=_openai_client(e.api_key, e.base_url))
        model._owns_client = True  # closed with the LLM, as the plugin's own constructors do
        return model

    chain = _chain(make, *llm_endpoints(settings, fb))
    adapter = llm.FallbackAdapter(
        chain, attempt_timeout=fb.llm_attempt_timeout_s, max_retry_per_llm=0,
        retry_interval=0.5,
        # Text or a tool call already went out: re-asking another model could repeat it (and
        # run a tool twice), so the caller gets the apology instead.
        retry_on_chunk_sent=False,
    )
    if fb.hold_line_after_s <= 0:
        return adapter
    return HoldTheLine(adapter, after_s=fb.hold_line_after_s)


def _openai_client(api_key: str, base_url: str | None) -> Any:
    """The client the OpenAI plugin would build (its timeouts, pool and no retries), on the
    process's TLS context (worker/tls.py) instead of a new one per call."""
    import httpx2
    import openai

    from worker import tls

    return openai.AsyncClient(
        api_key=api_key, base_url=base_url, max_retries=0,
        http_client=httpx2.AsyncClient(
            verify=tls.client_ssl_context(), follow_redirects=True,
            timeout=httpx2.Timeout(connect=15.0, read=5.0, write=5.0, pool=5.0),
            limits=httpx2.Limits(max_connections=50, max_keepalive_connections=50,
                                 keepalive_expiry=120)),
    )


def _nova_chain(settings: Settings, fb: ProviderSettings, language: str) -> list[stt.STT]:
    from livekit.plugins import deepgram

    def make(e: Endpoint) -> stt.STT:
        return deepgram.STT(model=e.model, api_key=e.api_key, smart_format=True,
                            language=language, **_given(e.base_url))

    return _chain(make, *stt_endpoints(settings, fb))


def build_stt(settings: Settings, fb: ProviderSettings, language: str = "en-US") -> stt.STT:
    """`language`: "multi" (nova-3's multilingual mode, reporting each transcript's language)
    for a restaurant that offers more than one language."""
    return stt.FallbackAdapter(_nova_chain(settings, fb, language),
                               attempt_timeout=fb.stt_attempt_timeout_s, max_retry_per_stt=0,
                               retry_interval=0.5)


def build_flux_stt(settings: Settings, fb: ProviderSettings) -> stt.STT:
    """Deepgram Flux (English) for the streaming turn path (conversation/turn_taking.py): it
    sends the end of turn itself, and an eager one first, from which the reply starts. Behind
    the same fallback adapter, with the Nova chain after it: if Flux fails, the call goes on
    with Nova's own end of speech (turn detection stays with the STT)."""
    from livekit.plugins import deepgram

    from conversation import turn_taking

    flux = deepgram.STTv2(
        model=settings.deepgram_flux_model, api_key=settings.deepgram_api_key.get_secret_value(),
        eager_eot_threshold=turn_taking.FLUX_EAGER_EOT_THRESHOLD,
        eot_threshold=turn_taking.FLUX_EOT_THRESHOLD,
        **_given(settings.deepgram_flux_base_url),
    )
    return stt.FallbackAdapter([flux, *_nova_chain(settings, fb, "en-US")],
                               attempt_timeout=fb.stt_attempt_timeout_s, max_retry_per_stt=0,
                               retry_interval=0.5)


def build_tts(settings: Settings, fb: ProviderSettings, language: str = "en",
              voice: str | None = None) -> tts.TTS:
    from livekit.plugins import cartesia

    def make(e: Endpoint) -> tts.TTS:
        return cartesia.TTS(model=e.model, voice=e.voice, api_key=e.api_key, language=language,
                            **_given(e.base_url))

    chain = _chain(make, *tts_endpoints(settings, fb, voice))
    return tts.FallbackAdapter(chain, max_retry_per_tts=0)


def session_conn_options(fb: ProviderSettings) -> SessionConnectOptions:
    """No retries around the adapters (they fail over instead) and short per-attempt timeouts.

    The library default is 3 retries 2 s apart with a 10 s timeout: up to ~36 s of silence.
    """
    return SessionConnectOptions(
        stt_conn_options=APIConnectOptions(max_retry=0, timeout=fb.stt_attempt_timeout_s,
                                           retry_interval=0.5),
        llm_conn_options=APIConnectOptions(max_retry=0, timeout=fb.llm_attempt_timeout_s,
                                           retry_interval=0.5),
        tts_conn_options=APIConnectOptions(max_retry=0, timeout=fb.tts_attempt_timeout_s,
                                           retry_interval=0.5),
    )


@dataclass
class Providers:
    stt: stt.STT
    llm: llm.LLM
    tts: tts.TTS
    conn_options: SessionConnectOptions


def build(settings: Settings, fb: ProviderSettings | None = None, *,
          stt_language: str = "en-US", tts_language: str = "en",
          voice: str | None = None, flux: bool = False) -> Providers:
    """The session's providers; the fallbacks come from `settings` unless given (tests).
    The languages and voice are the restaurant's (agents/language.py); `flux`: Deepgram Flux
    first (the streaming turn path, English only)."""
    fb = fb or settings
    fb.check_against(settings)
    speech = build_flux_stt(settings, fb) if flux else build_stt(settings, fb, stt_language)
    return Providers(
        stt=speech, llm=build_llm(settings, fb),
        tts=build_tts(settings, fb, tts_language, voice),
        conn_options=session_conn_options(fb),
    )


# ---------------------------------------------------------------- the hold line


class HoldTheLine(llm.LLM):
    """Wraps an LLM: when no output has come after `after_s`, the reply starts with a short
    "One moment." so the caller hears something while a slow or failing model is replaced."""

    def __init__(self, inner: llm.LLM, *, after_s: float, text: str = HOLD_TEXT) -> None:
        super().__init__()
        self.inner = inner
        self.after_s = after_s
        self.text = text

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def provider(self) -> str:
        return self.inner.provider

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        inner = self.inner.chat(
            chat_ctx=chat_ctx, tools=tools, conn_options=conn_options,
            parallel_tool_calls=parallel_tool_calls, tool_choice=tool_choice,
            extra_kwargs=extra_kwargs,
        )
        # The outer stream never retries: a retry would re-run a request that may have spoken.
        outer_options = APIConnectOptions(max_retry=0, timeout=conn_options.timeout)
        return _HoldStream(self, inner, chat_ctx=chat_ctx, tools=tools or [],
                           conn_options=outer_options)

    def prewarm(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.inner.prewarm(loop=loop)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _HoldStream(llm.LLMStream):
    def __init__(self, owner: HoldTheLine, inner: llm.LLMStream, **kwargs: Any) -> None:
        super().__init__(owner, **kwargs)
        self._owner = owner
        self._inner = inner
        self.held = False

    async def _run(self) -> None:
        first = asyncio.Event()

        async def hold() -> None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(first.wait(), self._owner.after_s)
                return
            self.held = True
            delta = llm.ChoiceDelta(role="assistant", content=self._owner.text)
            self._event_ch.send_nowait(llm.ChatChunk(id="hold-the-line", delta=delta))

        timer = asyncio.create_task(hold())
        try:
            async with self._inner as stream:
                async for chunk in stream:
                    first.set()
                    self._event_ch.send_nowait(chunk)
        finally:
            first.set()
            await timer
