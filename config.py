"""Process configuration from the environment and `.env`.

Restaurant facts (hours, tax, capacity, …) live in Firestore `settings/restaurant`; the
`RESTAURANT_*` variables here only override them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


_S = TypeVar("_S", bound="FirestoreSettings")


class ConfigError(RuntimeError):
    """Raised at start-up with a message naming the variable to fix."""


DEFAULT_VOICE_ID = "f786b574-daa5-4673-aa0c-cbe3e8534c02"


class FirestoreSettings(BaseSettings):
    """What the database layer and the staff scripts need; no AI keys."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Firestore: a service account for the real project, or the emulator
    firebase_service_account_path: Path | None = None
    firestore_emulator_host: str | None = None
    google_cloud_project: str = "demo-restaurant"
    outbox_path: Path = ROOT / "data" / "outbox.jsonl"

    @field_validator("firestore_emulator_host", "firebase_service_account_path", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `.env.example` leaves optional variables empty; empty means "not set".
        return None if value == "" else value


class RestaurantOverrides(FirestoreSettings):
    """Firestore plus the RESTAURANT_* overrides of settings/restaurant (worker and staff board
    must apply the same ones, or the board would book against another capacity)."""

    restaurant_name: str | None = None
    restaurant_timezone: str | None = None
    restaurant_tax_rate: float | None = Field(default=None, ge=0, lt=0.5)
    restaurant_prep_minutes: int | None = Field(default=None, ge=1)
    restaurant_max_party_size: int | None = Field(default=None, ge=1)
    restaurant_seats_per_slot: int | None = Field(default=None, ge=1)
    staff_transfer_to: str | None = None

    @field_validator(
        "staff_transfer_to", "restaurant_name", "restaurant_timezone", "restaurant_tax_rate",
        "restaurant_prep_minutes", "restaurant_max_party_size", "restaurant_seats_per_slot",
        mode="before",
    )
    @classmethod
    def _empty_override_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("restaurant_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        # Checked here so a typo stops the worker at start, naming the variable.
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. America/New_York)") from None
        return value

    def restaurant_overrides(self) -> dict[str, Any]:
        pairs = {
            "name": self.restaurant_name,
            "timezone": self.restaurant_timezone,
            "tax_rate": self.restaurant_tax_rate,
            "prep_minutes": self.restaurant_prep_minutes,
            "max_party_size": self.restaurant_max_party_size,
            "seats_per_slot": self.restaurant_seats_per_slot,
            "staff_transfer_to": self.staff_transfer_to,
        }
        return {k: v for k, v in pairs.items() if v is not None}


class Settings(RestaurantOverrides):
    """Everything the worker needs."""

    # LiveKit
    livekit_url: str = "ws://127.0.0.1:7880"
    livekit_api_key: SecretStr | None = None
    livekit_api_secret: SecretStr | None = None
    agent_name: str = "restaurant-agent"

    # AI providers (the *_BASE_URL variables point a plugin at a compatible or local endpoint)
    openai_api_key: SecretStr
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    deepgram_api_key: SecretStr
    deepgram_model: str = "nova-3"
    deepgram_base_url: str | None = None
    cartesia_api_key: SecretStr
    cartesia_voice_id: str = DEFAULT_VOICE_ID
    cartesia_model: str = "sonic-2"
    cartesia_base_url: str | None = None
    noise_cancellation: bool | None = None  # unset: on only against LiveKit Cloud

    log_level: str = "INFO"

    @field_validator(
        "openai_base_url", "deepgram_base_url", "cartesia_base_url", "noise_cancellation",
        mode="before",
    )
    @classmethod
    def _empty_optional_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("livekit_url")
    @classmethod
    def _livekit_scheme(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://", "http://", "https://")):
            raise ValueError("must be a ws://, wss://, http:// or https:// URL")
        return value

    @field_validator("cartesia_voice_id", mode="before")
    @classmethod
    def _default_voice(cls, value: Any) -> Any:
        # compose passes an unset CARTESIA_VOICE_ID as "": that means our default voice.
        return DEFAULT_VOICE_ID if value in ("", None) else value

    @property
    def uses_livekit_cloud(self) -> bool:
        return ".livekit.cloud" in self.livekit_url

    @property
    def noise_cancellation_enabled(self) -> bool:
        if self.noise_cancellation is None:
            return self.uses_livekit_cloud
        return self.noise_cancellation



def _describe(error: ValidationError) -> str:
    problems = []
    for err in error.errors():
        var = str(err["loc"][0]).upper() if err["loc"] else "?"
        if err["type"] == "missing":
            problems.append(f"{var} is required but not set (see .env.example)")
        else:
            problems.append(f"{var} is invalid: {err['msg']}")
    return "; ".join(problems)


def _default_env_file() -> Path:
    # ENV_FILE picks another file (or a missing one, for a clean environment).
    return Path(os.environ.get("ENV_FILE", ROOT / ".env"))


def _load(cls: type[_S], env_file: Path | None) -> _S:
    if env_file is not None and env_file.exists():
        load_dotenv(env_file, override=False)
    try:
        return cls()
    except ValidationError as e:
        raise ConfigError(f"Configuration error: {_describe(e)}") from None


def load_settings(env_file: Path | Literal["default"] | None = "default") -> Settings:
    """Read `.env` (without overriding the real environment) and validate it for the worker."""
    return _load(Settings, _default_env_file() if env_file == "default" else env_file)


def load_firestore_settings(
    env_file: Path | Literal["default"] | None = "default",
) -> FirestoreSettings:
    """The database part only, for the staff scripts."""
    return _load(FirestoreSettings, _default_env_file() if env_file == "default" else env_file)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def firestore_target_error() -> str:
    return (
        "No Firestore configured. Set FIREBASE_SERVICE_ACCOUNT_PATH to a service-account JSON "
        "file to use a real Firebase project, or set FIRESTORE_EMULATOR_HOST=host:port (with "
        "GOOGLE_CLOUD_PROJECT, default demo-restaurant) to use the local emulator."
    )


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes", "on"}
