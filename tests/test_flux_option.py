"""The streaming turn path as a per-restaurant option (conversation/turn_taking.py, main.py):
off by default; on, the call's session runs Deepgram Flux with no VAD and no turn detector,
and the reply starts on Flux's eager end of turn."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from livekit.plugins import deepgram
from pydantic import SecretStr

import main
from config import Settings
from conversation import turn_taking
from models import RestaurantSettings

KEYS = {"openai_api_key": SecretStr("k"), "deepgram_api_key": SecretStr("k"),
        "cartesia_api_key": SecretStr("k")}


def _settings(**kw: object) -> Settings:
    return Settings(**KEYS, deepgram_flux_base_url="http://127.0.0.1:9/v2/listen", **kw)


def _call(restaurant: RestaurantSettings) -> SimpleNamespace:
    """What build_session reads of a call's state."""
    return SimpleNamespace(settings=restaurant, language=restaurant.default_language,
                           turn_path=turn_taking.path_for(restaurant))


def test_the_streaming_path_is_off_unless_the_restaurant_asks() -> None:
    assert RestaurantSettings(name="Café").turn_taking == "local"
    assert turn_taking.path_for(RestaurantSettings(name="Café")) == "local"
    assert turn_taking.path_for(RestaurantSettings(name="Café", turn_taking="flux")) == "flux"
    with pytest.raises(ValueError):
        RestaurantSettings(name="Café", turn_taking="vad")


def test_flux_is_english_only(caplog: pytest.LogCaptureFixture) -> None:
    # (unvalidated: a real one also needs its lines in Spanish)
    both = RestaurantSettings.model_construct(name="Casa", turn_taking="flux",
                                              languages=["en", "es"], default_language="en")
    with caplog.at_level(logging.WARNING, "restaurant.turn_taking"):
        assert turn_taking.path_for(both) == "local"
    assert "English only" in caplog.text
    spanish = RestaurantSettings.model_construct(name="Casa", turn_taking="flux",
                                                 languages=["es"], default_language="es")
    assert turn_taking.path_for(spanish) == "local"


def test_the_environment_can_set_it_for_every_restaurant(monkeypatch) -> None:
    monkeypatch.setenv("RESTAURANT_TURN_TAKING", "flux")
    restaurant = main.restaurant_settings(RestaurantSettings(name="Café"), _settings())
    assert restaurant.turn_taking == "flux"
    monkeypatch.setenv("RESTAURANT_TURN_TAKING", "")
    assert main.restaurant_settings(RestaurantSettings(name="Café"), _settings()).turn_taking \
        == "local"


async def test_a_flux_call_has_no_vad_and_no_turn_detector() -> None:
    settings = _settings()
    vad = object()
    flux = main.build_session(settings, vad, _call(
        RestaurantSettings(name="Café", turn_taking="flux")))  # type: ignore[arg-type]
    local = main.build_session(settings, vad, _call(
        RestaurantSettings(name="Café")))  # type: ignore[arg-type]
    try:
        assert flux.vad is None and flux.turn_detection == "stt"
        assert local.vad is vad and local.turn_detection not in ("stt", None)
        first = flux.stt._stt_instances[0]  # type: ignore[union-attr]
        assert isinstance(first, deepgram.STTv2)
        assert first._opts.eager_eot_threshold == turn_taking.FLUX_EAGER_EOT_THRESHOLD
        assert first._opts.endpoint_url == "http://127.0.0.1:9/v2/listen"
        # Nova after it, should Flux fail
        assert isinstance(flux.stt._stt_instances[1], deepgram.STT)  # type: ignore[union-attr]
        assert not any(isinstance(s, deepgram.STTv2)
                       for s in local.stt._stt_instances)  # type: ignore[union-attr]
        # Flux's end of turn is the commit: no floor; the eager one starts the reply
        assert flux.options.endpointing["min_delay"] == 0.0
        # the local path keeps its floor (ENDPOINTING_FLOOR_S, 0.3 s by default)
        assert local.options.endpointing["min_delay"] == 0.3
        assert flux.options.preemptive_generation["enabled"]
    finally:
        await flux.aclose()
        await local.aclose()


def test_flux_agents_keep_no_short_answer_ceiling_but_a_number_floor() -> None:
    assert turn_taking.endpointing_for(True, path="flux") == {}
    assert turn_taking.endpointing_for(True) == turn_taking.SHORT_ANSWER_ENDPOINTING
    assert turn_taking.endpointing_for(False, number=True, path="flux") \
        == turn_taking.NUMBER_ENDPOINTING
    # back from a number: the Flux session's own (no floor), not the local path's 0.8 s
    assert turn_taking.session_endpointing("flux") == turn_taking.FLUX_ENDPOINTING
