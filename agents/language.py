"""Serving the caller in their language: which one, and switching the whole call to it.

The call starts in the restaurant's `default_language`. The STT runs in Deepgram's
multilingual mode when the restaurant offers more than one language and reports the language
of each final transcript; a caller who speaks one of the restaurant's other languages (or asks
for it: "¿habla español?", "do you speak Spanish?") is switched to it:

* the fixed lines (domain/lines.py) and spoken values (domain/spoken.py) follow `userdata.language`;
* every agent's instructions get the language note on its next LLM request (BaseAgent), so
  the language is carried across hand-overs;
* the TTS speaks with that language's voice; the hold line is said in that language;
* the turn detector needs nothing from us: LiveKit passes it the language the STT reported.

A short or unsure transcript ("ok", "sí") does not switch: it must have a few words, or be an
explicit request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from conversation.state import UserData
from domain.lines import say
from domain.spoken import LANGUAGE_NAMES

logger = logging.getLogger("restaurant.language")

MIN_WORDS_TO_SWITCH = 3
_ASKS = {
    "es": re.compile(r"\b(habla|hablan|hablas|en)\s+español\b|\bspanish\b|\bespañol\b",
                     re.IGNORECASE),
    "en": re.compile(r"\b(speak|in)\s+english\b|\binglés\b|\bingles\b", re.IGNORECASE),
}

NOTES = {
    "es": (
        "LANGUAGE: the caller speaks Spanish. Speak only Spanish (usted), short and natural. "
        "Say dish, size and option names exactly as the menu writes them (do not translate "
        "them). Tool results are in English: say them in Spanish; prices as 'X dólares con Y "
        "centavos', times as 'las 7 y media de la tarde', phone numbers digit by digit. In "
        "tool arguments use the menu's names for dishes, sizes and options."
    ),
}


def language_note(userdata: UserData) -> str:
    """What every agent's instructions add for the caller's language ('' for English)."""
    return NOTES.get(userdata.language, "")


def asked_for(transcript: str, offered: list[str]) -> str | None:
    """The language a caller explicitly asks for ("¿habla español?"), if the restaurant has it."""
    for lang, pattern in _ASKS.items():
        if lang in offered and pattern.search(transcript):
            return lang
    return None


def heard(userdata: UserData, language: str | None, transcript: str) -> str | None:
    """The language to switch to after a final transcript, or None to stay."""
    offered = list(userdata.settings.languages)
    wanted = asked_for(transcript, offered)
    if wanted is None and language:
        code = language.split("-")[0].lower()
        if code in offered and len(transcript.split()) >= MIN_WORDS_TO_SWITCH:
            wanted = code
    if wanted is None or wanted == userdata.language:
        return None
    return wanted


def start_language(userdata: UserData, language: str | None = None) -> None:
    """The language the call starts in: the restaurant's default, or `language` (a call the
    restaurant makes speaks the language the guest booked in: actions/outbound.py)."""
    userdata.language = language or userdata.settings.default_language
    userdata.languages_used = [userdata.language]


def use_language(userdata: UserData, language: str,
                 apply: Callable[[str], None] | None = None) -> None:
    """Switch the call to `language`; `apply` retunes the session's voice and hold line."""
    if language == userdata.language:
        return
    logger.info("caller served in %s", LANGUAGE_NAMES.get(language, language),
                extra={"call_id": userdata.call_id})
    userdata.language = language
    if language not in userdata.languages_used:
        userdata.languages_used.append(language)
    if apply is not None:
        apply(language)


def voice_for(userdata: UserData, language: str, default_voices: dict[str, str]) -> str | None:
    return userdata.settings.voices.get(language) or default_voices.get(language)


def retune(session: Any, userdata: UserData, default_voices: dict[str, str]
           ) -> Callable[[str], None]:
    """How a session follows a language switch: each TTS of the fallback chain speaks the
    language with its voice, and the LLM's hold line is said in it."""

    def apply(language: str) -> None:
        voice = voice_for(userdata, language, default_voices)
        for tts in _chain(session.tts):
            update = getattr(tts, "update_options", None)
            if update is None:
                continue
            try:
                update(language=language, **({"voice": voice} if voice else {}))
            except TypeError:  # a TTS without languages (a test stand-in)
                logger.debug("TTS %s cannot switch language", type(tts).__name__)
        hold = session.llm
        if hold is not None and hasattr(hold, "text"):
            hold.text = say(language, "hold")

    return apply


def _chain(tts: Any) -> list[Any]:
    if tts is None:
        return []
    return list(getattr(tts, "_tts_instances", None) or [tts])


def follow_caller(session: Any, userdata: UserData, default_voices: dict[str, str]) -> None:
    """Switch the call when the STT hears the caller speak (or ask for) another language."""
    apply = retune(session, userdata, default_voices)
    if userdata.language != "en":
        apply(userdata.language)  # a restaurant that answers in Spanish from the first word

    def on_transcript(ev: Any) -> None:
        if not ev.is_final:
            return
        wanted = heard(userdata, str(ev.language) if ev.language else None, ev.transcript)
        if wanted is not None:
            use_language(userdata, wanted, apply)
            _retell(session.current_agent)

    session.on("user_input_transcribed", on_transcript)


def _retell(agent: Any) -> None:
    """Give the agent answering this turn its language note now, before LiveKit starts the
    turn's (preemptive) LLM request: changed instructions after that point would discard the
    request and cost a second one. The other agents get theirs when they take over."""
    wanted = getattr(agent, "instructions_now", None)
    if wanted is None or wanted() == agent.instructions:
        return
    update = agent.update_instructions(wanted())
    try:  # without a realtime model the update never waits: done within this call
        update.send(None)
    except StopIteration:
        return
    except RuntimeError:  # no active session (a test that drives the agent directly)
        return
    update.close()  # a realtime model: llm_node brings the instructions up to date instead


def default_voices(settings: Any) -> dict[str, str]:
    """The deployment's voice per language (CARTESIA_VOICE_ID, CARTESIA_VOICE_ID_ES)."""
    voices = {"en": settings.cartesia_voice_id}
    if getattr(settings, "cartesia_voice_id_es", None):
        voices["es"] = settings.cartesia_voice_id_es
    return voices


def provider_languages(userdata: UserData, settings: Any) -> dict[str, Any]:
    """How the call's STT and TTS start: multilingual STT when the restaurant offers more
    than one language (Deepgram nova-3 `multi`), the TTS in the default language's voice."""
    offered = list(userdata.settings.languages)
    first = userdata.language
    return {
        "stt_language": "multi" if len(offered) > 1 else ("en-US" if first == "en" else first),
        "tts_language": first,
        "voice": voice_for(userdata, first, default_voices(settings)),
    }
