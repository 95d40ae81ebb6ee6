"""`python main.py check` and the worker's start: a wrong key, model or voice is one line naming
the variable, against fakes answering as OpenAI, Deepgram and Cartesia do (fakes/accounts.py);
the worker refuses to start on one, so no call is taken with a voice that does not exist."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest

from config import DEFAULT_VOICE_ID, ROOT, load_settings
from fakes.accounts import Accounts
from fakes.script import Script
from fakes.server import FakeEndpoints, serve
from tests.conftest import PROJECT, seed_menu_file
from worker.provider_check import RestaurantVoices, check_providers, run_check

ES_VOICE = "5c5ad5e7-1020-476b-8b91-fdcbe9cc313c"
MISSING_VOICE = "00000000-dead-4bad-8bad-000000000000"
LUPITA = ROOT / "data" / "casa-lupita.yaml"


@pytest.fixture(scope="module")
async def fakes(tmp_path_factory) -> AsyncIterator[FakeEndpoints]:
    """The three fakes with an account each: its key, the models and voices it has."""
    ready = tmp_path_factory.mktemp("fakes") / "ready.json"
    env = FakeEndpoints("", "", "").env()
    accounts = {
        "llm": Accounts.of(keys=[env["OPENAI_API_KEY"]], models=["gpt-4o-mini", "gpt-4.1-mini"]),
        "stt": Accounts.of(keys=[env["DEEPGRAM_API_KEY"]]),
        "tts": Accounts.of(keys=[env["CARTESIA_API_KEY"]], voices=[DEFAULT_VOICE_ID, ES_VOICE]),
    }
    stop = asyncio.Event()
    task = asyncio.create_task(serve(Script(), ready_file=ready, stop=stop, accounts=accounts))
    while not ready.exists():
        assert not task.done(), task
        await asyncio.sleep(0.05)
    yield FakeEndpoints.from_json(ready.read_text())
    stop.set()
    await task


@pytest.fixture
def provider_env(monkeypatch, fakes, firestore_settings, firestore_emulator):
    """A clean environment pointing at the fakes and the emulator (both restaurants seeded)."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "DEEPGRAM_", "CARTESIA_", "RESTAURANT_")):
            monkeypatch.delenv(name, raising=False)
    firestore_emulator.reset(PROJECT)
    seed_menu_file(firestore_settings)
    seed_menu_file(firestore_settings, LUPITA, restaurant_id="casa-lupita")
    for name, value in fakes.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_settings.firestore_emulator_host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("OUTBOX_PATH", str(firestore_settings.outbox_path))
    return monkeypatch


async def _failures() -> list[str]:
    report = await run_check(load_settings(env_file=None), timeout_s=5)
    return [f.line() for f in report.failures]


async def test_a_good_configuration_passes_every_check(provider_env):
    report = await run_check(load_settings(env_file=None), timeout_s=5)
    assert report.failures == []
    text = "\n".join(report.passed)
    assert "2 restaurant(s): casa-lupita, main" in text
    assert "OPENAI: key accepted, model 'gpt-4o-mini' exists" in text
    # casa-lupita offers English and Spanish: its calls run nova-3 in `multi`
    assert "DEEPGRAM: key accepted, model 'nova-3' speaks en-US, multi" in text
    assert f"voice {DEFAULT_VOICE_ID} (CARTESIA_VOICE_ID, en) exists" in text


@pytest.mark.parametrize(("variable", "value", "line"), [
    ("OPENAI_API_KEY", "sk-not-mine-0000", "OPENAI_API_KEY: the key was rejected (401)"),
    ("OPENAI_MODEL", "gpt-9-turbo", "OPENAI_MODEL: model 'gpt-9-turbo' does not exist"),
    ("DEEPGRAM_API_KEY", "dg-wrong", "DEEPGRAM_API_KEY: the key was rejected (401)"),
    ("DEEPGRAM_MODEL", "nova-9", "DEEPGRAM_MODEL: Deepgram has no streaming model 'nova-9'"),
    ("DEEPGRAM_MODEL", "enhanced", "DEEPGRAM_MODEL: 'enhanced' does not transcribe 'multi', "
                                   "which the calls of restaurant casa-lupita need"),
    ("CARTESIA_API_KEY", "ct-wrong", "CARTESIA_API_KEY: the key was rejected (401)"),
    ("CARTESIA_VOICE_ID", MISSING_VOICE,
     f"CARTESIA_VOICE_ID: Cartesia has no voice '{MISSING_VOICE}'"),
    ("CARTESIA_VOICE_ID_ES", MISSING_VOICE,
     f"CARTESIA_VOICE_ID_ES: Cartesia has no voice '{MISSING_VOICE}'"),
])
async def test_each_bad_setting_is_one_line_naming_its_variable(provider_env, variable, value,
                                                                line):
    provider_env.setenv(variable, value)
    failures = await _failures()
    assert len(failures) == 1, failures
    assert failures[0].startswith(line)
    if variable.endswith("_API_KEY"):
        assert value not in failures[0], "a key is never printed"


async def test_a_fallback_is_checked_under_its_own_variables(provider_env):
    provider_env.setenv("OPENAI_FALLBACK_MODEL", "gpt-4o-nano-x")
    provider_env.setenv("CARTESIA_FALLBACK_BASE_URL", "http://127.0.0.1:1")  # nothing there
    report = await run_check(load_settings(env_file=None), timeout_s=5)
    lines = [f.line() for f in report.failures]
    assert lines[0].startswith("OPENAI_FALLBACK_MODEL: model 'gpt-4o-nano-x' does not exist")
    assert lines[1].startswith("CARTESIA_FALLBACK_BASE_URL: http://127.0.0.1:1 did not answer")
    # an outage is reported but does not stop the worker; a wrong model does
    assert [f.variable for f in report.fatal] == ["OPENAI_FALLBACK_MODEL"]


async def test_a_restaurants_own_voice_is_checked(provider_env):
    settings = load_settings(env_file=None)
    lupita = RestaurantVoices("casa-lupita", ["en", "es"], "en", {"es": MISSING_VOICE})
    report = await check_providers(settings, [lupita], timeout_s=5)
    assert [f.line() for f in report.failures] == [
        f"restaurant casa-lupita voices.es (its file): Cartesia has no voice '{MISSING_VOICE}'"]


async def _main(command: str, env_changes: dict[str, str]) -> tuple[int, str, str]:
    """`python main.py <command>` while the fakes (on this loop) answer: exit code, out, err."""
    env = {**os.environ, **env_changes, "ENV_FILE": "/nonexistent/.env"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "main.py", command, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_main_check_prints_one_line_a_check_and_exits_by_the_result(provider_env):
    code, out, err = await _main("check", {})
    assert code == 0, out + err
    assert "FAIL" not in out and out.count("ok    ") == 4  # Firestore, LLM, STT, one voice
    code, out, _ = await _main("check", {"OPENAI_MODEL": "gpt-9-turbo"})
    assert code == 1
    assert "FAIL  OPENAI_MODEL: model 'gpt-9-turbo' does not exist" in out


async def test_the_worker_does_not_start_with_a_voice_that_does_not_exist(provider_env):
    code, out, err = await _main("start", {"CARTESIA_VOICE_ID": MISSING_VOICE,
                                           "LIVEKIT_URL": "ws://127.0.0.1:1"})
    assert code != 0
    assert f"provider check: CARTESIA_VOICE_ID: Cartesia has no voice '{MISSING_VOICE}'" in err
    assert "Provider check failed; fix: CARTESIA_VOICE_ID" in err
    assert "registered worker" not in out + err
