"""Are the configured providers usable? `python main.py check`, and the worker at start.

Each provider is asked the cheapest question that proves the key, the model and the voice are
right, with the same key and endpoint the calls will use:

* OpenAI: `GET /models/{OPENAI_MODEL}` (401: the key; 404: the model);
* Deepgram: `GET /projects` (401: the key) and `GET /models`, whose `stt` list must hold
  `DEEPGRAM_MODEL` with every language a restaurant's calls will ask it for ("multi" for a
  restaurant offering several);
* Cartesia: `GET /voices/{id}` for every voice a call can speak with (CARTESIA_VOICE_ID,
  CARTESIA_VOICE_ID_ES, the fallback's, each restaurant's `voices:`) (401: the key; 404: the
  voice).

The same for each configured fallback, under its own variables. Every failure is one line
naming the variable to fix. A provider that does not answer at all is reported too, but is not
`fatal`: an outage is what the fallback chains and the hold line are for, while a wrong key,
model or voice fails every call the same way (worker start refuses those).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

import store
from config import Settings
from store.directory import restaurant_ids
from worker import providers
from worker.providers import Endpoint

OPENAI_URL = "https://api.openai.com/v1"
DEEPGRAM_URL = "https://api.deepgram.com/v1"
CARTESIA_URL = "https://api.cartesia.ai"
CARTESIA_VERSION = "2025-04-16"  # the LiveKit plugin's API version
TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Finding:
    """One failure: the variable to fix and what is wrong with it."""

    variable: str
    problem: str
    fatal: bool = True  # False: the provider did not answer (an outage, not a wrong setting)

    def line(self) -> str:
        return f"{self.variable}: {self.problem}"


@dataclass
class Report:
    passed: list[str] = field(default_factory=list)
    failures: list[Finding] = field(default_factory=list)

    @property
    def fatal(self) -> list[Finding]:
        return [f for f in self.failures if f.fatal]

    def lines(self) -> list[str]:
        return ([f"ok    {p}" for p in self.passed]
                + [f"FAIL  {f.line()}" for f in self.failures])


@dataclass(frozen=True)
class Target:
    """One provider endpoint to check, with the names of the variables that configure it."""

    prefix: str  # OPENAI, OPENAI_FALLBACK, DEEPGRAM, ...
    api_key: str
    base_url: str
    model: str
    model_var: str  # the variable a wrong model is fixed in (the primary's when inherited)


@dataclass(frozen=True)
class Voice:
    variable: str  # where it is configured: CARTESIA_VOICE_ID, restaurant casa-lupita voices.es
    voice_id: str


class _Unreachable(Exception):
    pass


async def _get(session: aiohttp.ClientSession, url: str, headers: dict[str, str]
               ) -> tuple[int, Any]:
    try:
        async with session.get(url, headers=headers) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
            return resp.status, body
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        raise _Unreachable(f"{type(e).__name__}: {e}".rstrip(": ")) from None


def _unexpected(target: Target, status: int, body: Any) -> Finding:
    return Finding(f"{target.prefix}_BASE_URL",
                   f"unexpected answer {status} from {target.base_url}: {str(body)[:120]}")


def _rejected(target: Target, status: int) -> Finding:
    return Finding(f"{target.prefix}_API_KEY",
                   f"the key was rejected ({status}); set a valid {target.prefix} API key")


async def check_openai(session: aiohttp.ClientSession, target: Target, report: Report) -> None:
    url = f"{target.base_url.rstrip('/')}/models/{target.model}"
    status, body = await _get(session, url, {"Authorization": f"Bearer {target.api_key}"})
    if status in (401, 403):
        report.failures.append(_rejected(target, status))
    elif status == 404:
        report.failures.append(Finding(target.model_var, f"model {target.model!r} does not "
                                       "exist or this key cannot use it"))
    elif status != 200:
        report.failures.append(_unexpected(target, status, body))
    else:
        report.passed.append(f"{target.prefix}: key accepted, model {target.model!r} exists")


def deepgram_root(base_url: str | None) -> str:
    """The REST root of a Deepgram endpoint given as its websocket `.../v1/listen` URL."""
    root = (base_url or DEEPGRAM_URL).rstrip("/")
    root = root.removesuffix("/listen")
    if root.startswith("ws"):
        root = "http" + root[2:]
    return root


def _speaks(model: dict[str, Any], language: str) -> bool:
    languages = {str(x).lower() for x in model.get("languages") or []}
    if language == "multi":  # nova-3 and nova-2 transcribe several languages in one stream
        return "multi" in languages or model.get("architecture") in ("nova-3", "nova-2")
    return language.lower() in languages or language.split("-")[0].lower() in languages


async def check_deepgram(session: aiohttp.ClientSession, target: Target,
                         languages: dict[str, list[str]], report: Report) -> None:
    """`languages`: each STT language and the restaurants whose calls ask for it."""
    headers = {"Authorization": f"Token {target.api_key}"}
    status, body = await _get(session, f"{target.base_url}/projects", headers)
    if status in (401, 403):
        report.failures.append(_rejected(target, status))
        return
    if status != 200:
        report.failures.append(_unexpected(target, status, body))
        return
    status, body = await _get(session, f"{target.base_url}/models", headers)
    if status != 200 or not isinstance(body, dict):
        report.failures.append(_unexpected(target, status, body))
        return
    found = [m for m in body.get("stt") or []
             if target.model in (m.get("name"), m.get("canonical_name"))
             and m.get("streaming", True)]
    if not found:
        report.failures.append(Finding(target.model_var, f"Deepgram has no streaming model "
                                       f"{target.model!r}"))
        return
    missing = [lang for lang in languages if not any(_speaks(m, lang) for m in found)]
    for lang in missing:
        report.failures.append(Finding(target.model_var, (
            f"{target.model!r} does not transcribe {lang!r}, which the calls of "
            f"{', '.join(languages[lang])} need")))
    if not missing:
        report.passed.append(f"{target.prefix}: key accepted, model {target.model!r} speaks "
                             f"{', '.join(sorted(languages))}")


async def check_cartesia(session: aiohttp.ClientSession, target: Target, voices: list[Voice],
                         report: Report) -> None:
    headers = {"X-API-Key": target.api_key, "Cartesia-Version": CARTESIA_VERSION}
    for voice in voices:
        status, body = await _get(session, f"{target.base_url.rstrip('/')}/voices/"
                                  f"{voice.voice_id}", headers)
        if status in (401, 403):
            report.failures.append(_rejected(target, status))
            return
        if status in (400, 404):
            report.failures.append(Finding(voice.variable,
                                           f"Cartesia has no voice {voice.voice_id!r}"))
        elif status != 200:
            report.failures.append(_unexpected(target, status, body))
        else:
            spoken = (body or {}).get("language") if isinstance(body, dict) else None
            report.passed.append(f"{target.prefix}: voice {voice.voice_id} ({voice.variable}"
                                 f"{', ' + str(spoken) if spoken else ''}) exists")


# ---------------------------------------------------------------- what is configured


@dataclass(frozen=True)
class RestaurantVoices:
    """What a restaurant's calls ask of the STT and TTS (from its settings)."""

    restaurant_id: str
    languages: list[str]
    default_language: str
    voices: dict[str, str]


def stt_languages(restaurants: list[RestaurantVoices]) -> dict[str, list[str]]:
    """Each language the STT will be started in, with the restaurants that need it (the rule
    of agents.language.provider_languages: several languages is nova's `multi`)."""
    out: dict[str, list[str]] = {}
    for r in restaurants:
        if len(r.languages) > 1:
            lang = "multi"
        else:
            lang = "en-US" if r.default_language == "en" else r.default_language
        out.setdefault(lang, []).append(f"restaurant {r.restaurant_id}")
    return out or {"en-US": ["the default restaurant"]}


def voices_to_check(settings: Settings, restaurants: list[RestaurantVoices]) -> list[Voice]:
    """Every voice a call can be spoken with, once each, named where it is configured."""
    voices = [Voice("CARTESIA_VOICE_ID", settings.cartesia_voice_id)]
    if settings.cartesia_voice_id_es:
        voices.append(Voice("CARTESIA_VOICE_ID_ES", settings.cartesia_voice_id_es))
    for r in restaurants:
        for lang, vid in sorted(r.voices.items()):
            voices.append(Voice(f"restaurant {r.restaurant_id} voices.{lang} (its file)", vid))
    seen: set[str] = set()
    unique = []
    for v in voices:
        if v.voice_id not in seen:
            seen.add(v.voice_id)
            unique.append(v)
    return unique


def fallback_voice(settings: Settings) -> Voice:
    """The one voice the fallback TTS speaks with (worker/providers.build_tts)."""
    if settings.cartesia_fallback_voice_id:
        return Voice("CARTESIA_FALLBACK_VOICE_ID", settings.cartesia_fallback_voice_id)
    return Voice("CARTESIA_VOICE_ID", settings.cartesia_voice_id)


def targets(s: Settings) -> dict[str, list[Target]]:
    """The primary and (when configured) the fallback of each kind, as the calls' chains are
    built (worker/providers.py), with the default endpoints and the variables to fix."""
    return {
        "llm": _targets("OPENAI", providers.llm_endpoints(s, s), lambda u: u or OPENAI_URL,
                        "OPENAI_FALLBACK_MODEL" if s.openai_fallback_model else "OPENAI_MODEL"),
        "stt": _targets("DEEPGRAM", providers.stt_endpoints(s, s), deepgram_root,
                        "DEEPGRAM_FALLBACK_MODEL" if s.deepgram_fallback_model
                        else "DEEPGRAM_MODEL"),
        "tts": _targets("CARTESIA", providers.tts_endpoints(s, s), lambda u: u or CARTESIA_URL,
                        "CARTESIA_FALLBACK_MODEL"),
    }


def _targets(prefix: str, chain: tuple[Endpoint, Endpoint | None],
             root: Callable[[str | None], str], fallback_model_var: str) -> list[Target]:
    primary, fallback = chain
    out = [Target(prefix, primary.api_key, root(primary.base_url), primary.model,
                  f"{prefix}_MODEL")]
    if fallback is not None:
        out.append(Target(f"{prefix}_FALLBACK", fallback.api_key, root(fallback.base_url),
                          fallback.model, fallback_model_var))
    return out


async def _guarded(target: Target, report: Report, check: Callable[[], Awaitable[None]]) -> None:
    try:
        await check()
    except _Unreachable as e:
        report.failures.append(Finding(f"{target.prefix}_BASE_URL",
                                       f"{target.base_url} did not answer ({e})", fatal=False))


async def check_providers(settings: Settings, restaurants: list[RestaurantVoices],
                          *, timeout_s: float = TIMEOUT_S) -> Report:
    """Every configured provider, primary and fallback, at once; one report, in the order
    LLM, STT, TTS (each primary before its fallback)."""
    all_targets = targets(settings)
    languages = stt_languages(restaurants)
    voices = voices_to_check(settings, restaurants)
    parts: list[Report] = []

    def part() -> Report:
        parts.append(Report())
        return parts[-1]

    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        jobs = [_guarded(t, r, lambda t=t, r=r: check_openai(session, t, r))
                for t in all_targets["llm"] for r in [part()]]
        jobs += [_guarded(t, r, lambda t=t, r=r: check_deepgram(session, t, languages, r))
                 for t in all_targets["stt"] for r in [part()]]
        for n, t in enumerate(all_targets["tts"]):
            spoken = voices if n == 0 else [fallback_voice(settings)]
            r = part()
            jobs.append(_guarded(t, r, lambda t=t, v=spoken, r=r: check_cartesia(
                session, t, v, r)))
        await asyncio.gather(*jobs)
    report = Report()
    for r in parts:
        report.passed += r.passed
        report.failures += r.failures
    return report


async def restaurant_voices(settings: Settings) -> list[RestaurantVoices]:
    """What every restaurant in Firestore asks of the STT and TTS."""
    db = await store.connect(settings)
    try:
        out = []
        for rid in await restaurant_ids(db.client):
            r = await db.for_restaurant(rid).load_restaurant_settings()
            if r is not None:
                out.append(RestaurantVoices(rid, list(r.languages), r.default_language,
                                            dict(r.voices)))
        return out
    finally:
        await db.close()


async def run_check(settings: Settings, *, timeout_s: float = TIMEOUT_S) -> Report:
    """The restaurants' languages and voices from Firestore, then every provider."""
    try:
        restaurants = await asyncio.wait_for(restaurant_voices(settings), timeout_s)
        problem = None
    except Exception as e:  # the providers are still worth checking without it
        restaurants, problem = [], f"{type(e).__name__}: {str(e)[:160]}"
    report = await check_providers(settings, restaurants, timeout_s=timeout_s)
    if problem is not None:
        report.failures.insert(0, Finding(
            "FIRESTORE_EMULATOR_HOST/FIREBASE_SERVICE_ACCOUNT_PATH",
            f"restaurants unreadable, their own voices and languages not checked ({problem})",
            fatal=False))
    else:
        report.passed.insert(0, f"Firestore: {len(restaurants)} restaurant(s): "
                                + ", ".join(r.restaurant_id for r in restaurants))
    return report
