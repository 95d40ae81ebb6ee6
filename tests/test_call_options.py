"""The phone audio-path levers (worker/call_options.py): what each one sets, and turning them
off."""

from __future__ import annotations

import pytest
from livekit.agents import inference
from livekit.agents.llm import utils
from livekit.agents.voice import room_io

from agents.tools import add_item, book_table
from worker import call_options
from worker.call_options import LEVERS, CallOptions, levers_off


def test_levers_off_parses_names_and_all() -> None:
    assert levers_off(None) == frozenset()
    assert levers_off("") == frozenset()
    assert levers_off(" native_vad , preload") == {"native_vad", "preload"}
    assert levers_off("all") == frozenset(LEVERS)


def test_unknown_lever_is_named() -> None:
    with pytest.raises(ValueError, match=r"AUDIO_LEVERS_OFF.*nativ_vad"):
        levers_off("nativ_vad")


def test_phone_rate_and_no_sync_by_default() -> None:
    opts = CallOptions().room_options()
    audio = opts.audio_input
    assert isinstance(audio, room_io.AudioInputOptions)
    assert audio.sample_rate == 16000
    assert audio.auto_gain_control is False
    text = opts.get_text_output_options()
    assert text is not None and text.sync_transcription is False


def test_levers_off_gives_livekit_defaults() -> None:
    opts = CallOptions(levers_off("all")).room_options()
    assert opts.get_audio_input_options().sample_rate == room_io.AudioInputOptions().sample_rate
    text = opts.get_text_output_options()
    assert text is not None and text.sync_transcription is not False
    assert CallOptions(levers_off("all")).preload_modules() == []


def test_noise_cancellation_kept_with_phone_rate() -> None:
    marker = object()
    audio = CallOptions().room_options(noise_cancellation=marker).get_audio_input_options()
    assert audio.noise_cancellation is marker
    assert audio.sample_rate == 16000


def test_native_vad_runs_locally() -> None:
    # livekit-local-inference: no LiveKit Cloud, no download
    assert isinstance(CallOptions().load_vad(), inference.VAD)


def test_preload_module_starts_no_thread() -> None:
    # The forkserver forks job processes from this state: a thread there would not survive.
    import subprocess
    import sys
    from pathlib import Path

    code = "import threading, worker.preload; print(threading.active_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=120, check=True)
    assert out.stdout.strip() == "1"
    assert CallOptions().preload_modules() == ["worker.preload"]


def test_schema_cache_builds_each_tool_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    original = getattr(utils.build_strict_openai_schema, "__wrapped__",
                       utils.build_strict_openai_schema)

    def counting(tool: object) -> dict:
        built.append(tool.info.name)  # type: ignore[attr-defined]
        return original(tool)

    monkeypatch.setattr(utils, "build_strict_openai_schema", counting)
    call_options.cache_tool_schemas()
    first = utils.build_strict_openai_schema(add_item)
    again = utils.build_strict_openai_schema(add_item)
    other = utils.build_strict_openai_schema(book_table)
    assert built == ["add_item", "book_table"]
    assert first == again == original(add_item)
    assert first is not again  # each request gets its own copy to edit
    again["function"]["name"] = "edited"
    assert utils.build_strict_openai_schema(add_item)["function"]["name"] == "add_item"
    assert other["function"]["name"] == "book_table"
