"""Bad configuration fails at start with a message naming the variable to fix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config import ROOT, ConfigError, load_settings

KEYS = {"OPENAI_API_KEY": "sk-test", "DEEPGRAM_API_KEY": "dg-test", "CARTESIA_API_KEY": "ct-test"}


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "DEEPGRAM_", "CARTESIA_", "RESTAURANT_", "LIVEKIT_")):
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("missing", sorted(KEYS))
def test_each_missing_provider_key_is_named(clean_env, missing):
    for name, value in KEYS.items():
        if name != missing:
            clean_env.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings(env_file=None)
    assert f"{missing} is required but not set" in str(err.value)
    assert "sk-test" not in str(err.value), "secrets never appear in messages"


def test_invalid_override_names_the_variable(clean_env):
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("RESTAURANT_TAX_RATE", "lots")
    with pytest.raises(ConfigError, match="RESTAURANT_TAX_RATE is invalid"):
        load_settings(env_file=None)


def test_empty_optional_variables_mean_unset_and_secrets_stay_hidden(clean_env):
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("OPENAI_BASE_URL", "")
    clean_env.setenv("RESTAURANT_MAX_PARTY_SIZE", "")
    clean_env.setenv("RESTAURANT_NAME", "Luigi's")
    clean_env.setenv("CARTESIA_VOICE_ID", "")
    settings = load_settings(env_file=None)
    assert settings.cartesia_voice_id, "an empty voice id means the default voice, not no voice"
    assert settings.openai_base_url is None
    assert settings.restaurant_overrides() == {"name": "Luigi's"}
    assert "sk-test" not in repr(settings)
    assert settings.noise_cancellation_enabled is False  # self-hosted LiveKit by default


def test_noise_cancellation_only_on_livekit_cloud(clean_env):
    for name, value in KEYS.items():
        clean_env.setenv(name, value)
    clean_env.setenv("LIVEKIT_URL", "wss://my-project.livekit.cloud")
    assert load_settings(env_file=None).noise_cancellation_enabled is True


def test_worker_refuses_to_start_without_keys_and_says_which():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["ENV_FILE"] = "/nonexistent/.env"  # a developer's own .env must not hide the error
    done = subprocess.run(
        [sys.executable, "main.py", "start"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "OPENAI_API_KEY is required but not set" in done.stderr
