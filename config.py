"""Process configuration from the environment and `.env`, read once per process.

* `FirestoreSettings`: the database (the staff scripts need only this);
* `WorkerSettings`: the agent's dispatch name and LiveKit's job-acceptance limits (no secrets, so
  `main.py` can read them when it registers the worker, even in `download-files`);
* `ProviderSettings`: fallback providers and the time budgets that keep the line from going
  silent (see `worker/providers.py`);
* `Settings`: all of the above plus the AI providers and the restaurant overrides.

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
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


_S = TypeVar("_S", bound=BaseSettings)


class ConfigError(RuntimeError):
    """Raised at start-up with a message naming the variable to fix."""


DEFAULT_VOICE_ID = "f786b574-daa5-4673-aa0c-cbe3e8534c02"
DEFAULT_AGENT_NAME = "restaurant-agent"  # the dispatch rule (scripts/setup_sip.py) names it too
# The rooms of calls the dialer places (services/dialer.py names them; the call watcher
# watches them beside the inbound calls' CALL_ROOM_PREFIX rooms)
OUTBOUND_ROOM_PREFIX = "out-"


class FirestoreSettings(BaseSettings):
    """What the database layer and the staff scripts need; no AI keys."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Firestore: a service account for the real project, or the emulator
    firebase_service_account_path: Path | None = None
    firestore_emulator_host: str | None = None
    google_cloud_project: str = "demo-restaurant"
    outbox_path: Path = ROOT / "data" / "outbox.jsonl"
    # The emulator's export folder as the emulator sees it (compose: /data/exports): set, the
    # worker keeps what callers were told is saved until an export holds it (store/checkpoint.py)
    firestore_emulator_export_dir: str | None = None

    @field_validator("firestore_emulator_host", "firebase_service_account_path",
                     "firestore_emulator_export_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `.env.example` leaves optional variables empty; empty means "not set".
        return None if value == "" else value


def _empty_is_default(cls: type[BaseSettings], value: Any, info: ValidationInfo) -> Any:
    # docker compose passes unset variables as "" (${VAR:-})
    return cls.model_fields[info.field_name or ""].default if value == "" else value


class WorkerSettings(BaseSettings):
    """How the worker presents itself to LiveKit; read when `main.py` registers it."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    agent_name: str = DEFAULT_AGENT_NAME
    # The worker's own CPU use (share of the machine, 0-1, or "inf") at which it stops taking
    # calls. 0.9, not LiveKit's 0.7: a refused SIP job is never re-offered, so the caller
    # would ring out. (worker/admission.py)
    agent_load_threshold: float = Field(default=0.9, gt=0)
    agent_idle_processes: int | None = Field(default=None, ge=0)  # job processes kept warm
    # calls at which the worker is full; default admission.CALLS_PER_CORE a core (measured, by
    # turn-taking path: the Flux path's when RESTAURANT_TURN_TAKING=flux, else the local one's)
    agent_max_calls: int | None = Field(default=None, ge=1)
    restaurant_turn_taking: Literal["local", "flux"] | None = None
    agent_http_port: int | None = Field(default=None, ge=0, le=65535)  # the health server
    # seconds a job process may take to load VAD, menu and models before LiveKit gives up
    # on it (LiveKit's default 10 s is short on a loaded 2-core machine)
    agent_init_timeout_s: float = Field(default=10.0, gt=0)
    # worker/call_options.py levers to turn off (comma list or "all"): the benchmark's before
    # figures
    audio_levers_off: str = ""
    # When the caller's turn is over (conversation/turn_taking.py): the endpointing floor and
    # ceiling (seconds after the end of speech) and the turn detector's "unlikely" threshold
    # (a turn scored under it waits the ceiling). Chosen from bench/endpointing.py's frontier
    # on realistic caller audio: the detector barely tells a pause from an end there, so the
    # ceiling must outlast callers' pauses (up to ~1.9 s) to cut off <= 3 % of paused turns,
    # and a threshold of 0.9 waits it unless the detector is all but sure.
    endpointing_floor_s: float = Field(default=0.3, gt=0, le=10)
    endpointing_ceiling_s: float = Field(default=2.0, gt=0, le=10)
    turn_detector_threshold: float = Field(default=0.9, ge=0, le=1)
    # A job process above this is killed by the worker (0: no limit) and its call resumed
    # elsewhere (telephony/redispatch.py); a job in a call measured ~410-470 MB RSS.
    agent_job_memory_limit_mb: float = Field(default=1500, ge=0)
    # Where the call watcher reaches this worker's health endpoint: loopback natively,
    # "hostname" in compose (the container's name on the compose network).
    worker_health_host: str = "127.0.0.1"
    # Calls out (warm transfer, reminders): the LiveKit SIP outbound trunk, by name
    # (scripts/setup_sip.py), and how long staff's phone rings before the agent takes back.
    sip_outbound_trunk_name: str = "restaurant-outbound"
    staff_ring_seconds: float = Field(default=25.0, gt=0, le=120)

    _defaults = field_validator(
        "agent_name", "agent_load_threshold", "agent_idle_processes", "agent_max_calls",
        "agent_http_port", "agent_init_timeout_s", "agent_job_memory_limit_mb",
        "worker_health_host", "sip_outbound_trunk_name", "staff_ring_seconds",
        "restaurant_turn_taking", "endpointing_floor_s", "endpointing_ceiling_s",
        "turn_detector_threshold", mode="before",
    )(classmethod(_empty_is_default))

    @model_validator(mode="after")
    def _ceiling_above_floor(self) -> WorkerSettings:
        if self.endpointing_ceiling_s < self.endpointing_floor_s:
            raise ValueError(f"ENDPOINTING_CEILING_S ({self.endpointing_ceiling_s}) is below "
                             f"ENDPOINTING_FLOOR_S ({self.endpointing_floor_s})")
        return self


class OutboundSettings(BaseSettings):
    """How reminder and call-back calls leave: the dialer service and the agent that dials.

    SIP_OUTBOUND_TRUNK_ID names LiveKit's outbound trunk; without it the trunk is found by
    SIP_OUTBOUND_TRUNK_NAME (scripts/setup_sip.py creates `restaurant-outbound`)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    sip_outbound_trunk_id: str = ""
    sip_outbound_trunk_name: str = "restaurant-outbound"  # telephony/sip_outbound.py's default
    agent_name: str = DEFAULT_AGENT_NAME
    dialer_id: str = ""  # the lease owner's name; host and pid when empty
    dialer_poll_s: float = Field(default=5.0, gt=0)
    # A call (ringing, talk, wrap-up) ends well inside this; a dialer or worker that died
    # mid-call frees the guest after it, and the attempt counts.
    dialer_lease_s: float = Field(default=600.0, ge=60)

    _defaults = field_validator(
        "sip_outbound_trunk_name", "agent_name", "dialer_poll_s", "dialer_lease_s",
        mode="before",
    )(classmethod(_empty_is_default))


def outbound_settings() -> OutboundSettings:
    return _load(OutboundSettings, _default_env_file())


class SquareSettings(BaseSettings):
    """The point of sale (docs/pos.md): confirmed orders go to Square through a local outbox.

    Without SQUARE_ACCESS_TOKEN the line sends nothing to a POS. SQUARE_BASE_URL points the
    official SDK at a compatible or local endpoint (the tests' fake); unset: Square production."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    square_access_token: SecretStr | None = None
    square_location_id: str = ""
    square_base_url: str | None = None
    square_timeout_s: float = Field(default=10.0, gt=0)
    pos_outbox_path: Path = ROOT / "data" / "pos_outbox.jsonl"
    pos_retry_s: float = Field(default=15.0, gt=0)
    # Square's webhooks (order and fulfillment updates): the subscription's signature key and
    # the exact notification URL it was registered with (Square signs URL + body).
    square_webhook_signature_key: SecretStr | None = None
    square_webhook_url: str = ""
    # The import's id map (scripts/import_square_catalog.py), so Square's sold-out reaches the
    # right menu items; unset: ids are the slugs a first import gives.
    square_id_map_path: Path | None = None
    # Without Square: the same order as a signed JSON webhook (docs/schemas/order-webhook...).
    pos_webhook_url: str = ""
    pos_webhook_secret: SecretStr | None = None

    _defaults = field_validator(
        "square_webhook_signature_key", "square_access_token", "square_base_url",
        "square_timeout_s", "pos_outbox_path", "pos_retry_s", "pos_webhook_secret",
        "square_id_map_path",
        mode="before",
    )(classmethod(_empty_is_default))

    @property
    def square_enabled(self) -> bool:
        """A Square account is set; each restaurant's location is its settings'
        `square_location_id`, else SQUARE_LOCATION_ID (`location_for`)."""
        return self.square_access_token is not None

    def location_for(self, restaurant_location: str | None) -> str:
        """The Square location a restaurant's orders go to ("" when it has none)."""
        if not self.square_enabled:
            return ""
        return restaurant_location or self.square_location_id


class TwilioSettings(BaseSettings):
    """Texts (docs/pos.md): confirmations the caller said yes to, and the inbound webhook.

    Without TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN no text is offered. TWILIO_BASE_URL points
    the official SDK at a compatible or local endpoint (the tests' fake). TWILIO_WEBHOOK_URL is
    the public URL Twilio posts inbound texts to: Twilio signs that exact URL."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr | None = None
    twilio_base_url: str | None = None
    twilio_timeout_s: float = Field(default=10.0, gt=0)
    twilio_webhook_url: str = ""
    sms_outbox_path: Path = ROOT / "data" / "sms_outbox.jsonl"
    # Where `python -m services.webhooks` (Twilio's texts, Square's events) listens: loopback by
    # default, behind the HTTPS reverse proxy Twilio and Square post to; compose: 0.0.0.0
    # inside its network, published on the host's loopback (docs/pos.md "Deployment").
    webhooks_host: str = "127.0.0.1"
    webhooks_port: int = Field(default=8091, ge=1, le=65535)

    _defaults = field_validator(
        "twilio_auth_token", "twilio_base_url", "twilio_timeout_s", "sms_outbox_path",
        mode="before",
    )(classmethod(_empty_is_default))

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid) and self.twilio_auth_token is not None


def twilio_settings() -> TwilioSettings:
    return _load(TwilioSettings, _default_env_file())


def square_settings() -> SquareSettings:
    return _load(SquareSettings, _default_env_file())


_FALLBACKS = (
    "openai_fallback_model", "openai_fallback_base_url", "openai_fallback_api_key",
    "deepgram_fallback_model", "deepgram_fallback_base_url", "deepgram_fallback_api_key",
    "cartesia_fallback_model", "cartesia_fallback_base_url", "cartesia_fallback_api_key",
    "cartesia_fallback_voice_id",
)


class LiveKitSettings(BaseSettings):
    """The LiveKit server every process of the line talks to, with one default: the worker (and
    its job guard), the dialer and the call watch all read it here."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    livekit_url: str = "ws://127.0.0.1:7880"
    livekit_api_key: SecretStr | None = None
    livekit_api_secret: SecretStr | None = None
    # New agents one call may get after crashes (the job guard and the call watch).
    call_max_redispatches: int = Field(default=3, ge=0, le=20)

    _defaults = field_validator("livekit_url", "call_max_redispatches", mode="before")(
        classmethod(_empty_is_default))

    def api_credentials(self, who: str) -> tuple[str, str]:
        """(key, secret) for LiveKit's server API; ConfigError naming `who` when missing."""
        key = self.livekit_api_key.get_secret_value() if self.livekit_api_key else ""
        secret = self.livekit_api_secret.get_secret_value() if self.livekit_api_secret else ""
        if not key or not secret:
            raise ConfigError(f"LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set for {who}")
        return key, secret


class CallWatchSettings(LiveKitSettings):
    """The call watch service (services/call_watch.py): which rooms are calls, how long an agent
    may take to join, where a call no agent can take is transferred, how often logs are reaped."""

    agent_name: str = DEFAULT_AGENT_NAME
    call_room_prefix: str = "call-"
    call_agent_join_s: float = Field(default=2.0, gt=0)
    call_watch_transfer_to: str = ""
    call_reap_every_s: float = Field(default=30.0, gt=0)
    call_reap_min_age_s: float = Field(default=60.0, ge=0)
    # A call's saved state (call_snapshots) that no call ended or crash-log consumed is deleted
    # this long after its last write (it holds the caller's name and number)
    call_snapshot_expiry_s: float = Field(default=300.0, gt=0)
    # Raw 24 kHz linear16 apology audio; espeak-ng (or beeps) when unset.
    call_watch_apology_audio: Path | None = None
    # LiveKit's room list is polled 4 times a second while calls are live, this often while
    # none is (a new call's first agent has 10 s to join anyway)
    call_watch_idle_poll_s: float = Field(default=2.0, gt=0)
    # A call whose agent's worker died, with no worker taking the re-dispatch: how long the
    # caller is held ("One moment, please") for a worker to register again, e.g. the one
    # container of `docker compose up` restarting (compose: 30). 0: the apology at once,
    # right where more than one worker runs (none took it, none is coming).
    call_worker_wait_s: float = Field(default=0.0, ge=0, le=120)

    _watch_defaults = field_validator(
        "agent_name", "call_room_prefix", "call_agent_join_s", "call_reap_every_s",
        "call_reap_min_age_s", "call_snapshot_expiry_s", "call_watch_apology_audio",
        "call_watch_idle_poll_s", "call_worker_wait_s",
        mode="before",
    )(classmethod(_empty_is_default))


class ProviderSettings(BaseSettings):
    """Fallback providers and the time budgets that keep the line from going silent."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    openai_fallback_model: str | None = None
    openai_fallback_base_url: str | None = None
    openai_fallback_api_key: SecretStr | None = None
    deepgram_fallback_model: str | None = None
    deepgram_fallback_base_url: str | None = None
    deepgram_fallback_api_key: SecretStr | None = None
    cartesia_fallback_model: str | None = None
    cartesia_fallback_base_url: str | None = None
    cartesia_fallback_api_key: SecretStr | None = None
    cartesia_fallback_voice_id: str | None = None

    llm_attempt_timeout_s: float = Field(default=1.5, gt=0, le=30)
    stt_attempt_timeout_s: float = Field(default=3.0, gt=0, le=30)
    tts_attempt_timeout_s: float = Field(default=2.0, gt=0, le=30)
    hold_line_after_s: float = Field(default=1.2, ge=0, le=10)

    @field_validator(*_FALLBACKS, mode="before")
    @classmethod
    def _empty_fallback_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    _budget_defaults = field_validator(
        "llm_attempt_timeout_s", "stt_attempt_timeout_s", "tts_attempt_timeout_s",
        "hold_line_after_s", mode="before",
    )(classmethod(_empty_is_default))

    @property
    def has_llm_fallback(self) -> bool:
        return bool(self.openai_fallback_model or self.openai_fallback_base_url)

    @property
    def has_stt_fallback(self) -> bool:
        return bool(self.deepgram_fallback_model or self.deepgram_fallback_base_url)

    @property
    def has_tts_fallback(self) -> bool:
        return bool(self.cartesia_fallback_model or self.cartesia_fallback_base_url)

    def check_against(self, settings: Settings) -> None:
        """A fallback identical to its primary would fail the same way: refuse it by name."""
        same = []
        if self.has_llm_fallback and (
            (self.openai_fallback_model or settings.openai_model) == settings.openai_model
            and (self.openai_fallback_base_url or settings.openai_base_url)
            == settings.openai_base_url
        ):
            same.append("OPENAI_FALLBACK_MODEL/OPENAI_FALLBACK_BASE_URL")
        if self.has_stt_fallback and (
            (self.deepgram_fallback_model or settings.deepgram_model) == settings.deepgram_model
            and (self.deepgram_fallback_base_url or settings.deepgram_base_url)
            == settings.deepgram_base_url
        ):
            same.append("DEEPGRAM_FALLBACK_MODEL/DEEPGRAM_FALLBACK_BASE_URL")
        if self.has_tts_fallback and (
            (self.cartesia_fallback_model or settings.cartesia_model) == settings.cartesia_model
            and (self.cartesia_fallback_base_url or settings.cartesia_base_url)
            == settings.cartesia_base_url
        ):
            same.append("CARTESIA_FALLBACK_MODEL/CARTESIA_FALLBACK_BASE_URL")
        if same:
            raise ConfigError(
                "Configuration error: "
                + "; ".join(f"{v} is the same as its primary; set a different model or endpoint"
                            for v in same)
            )


class RestaurantOverrides(FirestoreSettings):
    """Firestore plus the RESTAURANT_* overrides of settings/restaurant (worker and staff board
    must apply the same ones, or the board would book against another capacity)."""

    restaurant_name: str | None = None
    restaurant_timezone: str | None = None
    restaurant_tax_rate: float | None = Field(default=None, ge=0, lt=0.5)
    restaurant_prep_minutes: int | None = Field(default=None, ge=1)
    restaurant_max_party_size: int | None = Field(default=None, ge=1)
    staff_transfer_to: str | None = None
    restaurant_record_calls: bool | None = None
    restaurant_recording_retention_days: int | None = Field(default=None, ge=1, le=3650)
    restaurant_turn_taking: Literal["local", "flux"] | None = None

    @field_validator(
        "staff_transfer_to", "restaurant_name", "restaurant_timezone", "restaurant_tax_rate",
        "restaurant_prep_minutes", "restaurant_max_party_size", "restaurant_record_calls",
        "restaurant_recording_retention_days", "restaurant_turn_taking", mode="before",
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
            "staff_transfer_to": self.staff_transfer_to,
            "record_calls": self.restaurant_record_calls,
            "recording_retention_days": self.restaurant_recording_retention_days,
            "turn_taking": self.restaurant_turn_taking,
        }
        return {k: v for k, v in pairs.items() if v is not None}


class Settings(RestaurantOverrides, WorkerSettings, ProviderSettings, LiveKitSettings,
               SquareSettings, TwilioSettings):
    """Everything the worker needs."""

    # AI providers (the *_BASE_URL variables point a plugin at a compatible or local endpoint)
    openai_api_key: SecretStr
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    deepgram_api_key: SecretStr
    deepgram_model: str = "nova-3"
    deepgram_base_url: str | None = None
    # Flux (Deepgram's STT with its own end of turn), for restaurants with turn_taking "flux"
    deepgram_flux_model: str = "flux-general-en"
    deepgram_flux_base_url: str | None = None
    cartesia_api_key: SecretStr
    cartesia_voice_id: str = DEFAULT_VOICE_ID
    # The voice Spanish is spoken with (a restaurant's `voices:` overrides it); unset: the
    # English voice, speaking Spanish (Cartesia's sonic voices are multilingual).
    cartesia_voice_id_es: str | None = None
    cartesia_model: str = "sonic-2"
    cartesia_base_url: str | None = None
    noise_cancellation: bool | None = None  # unset: on only against LiveKit Cloud

    # Where kept recordings go (a volume in compose); only used when recording is on.
    recordings_dir: Path = ROOT / "data" / "recordings"
    _recordings_default = field_validator("recordings_dir", mode="before")(
        classmethod(_empty_is_default))

    log_level: str = "INFO"

    @field_validator(
        "openai_base_url", "deepgram_base_url", "cartesia_base_url", "noise_cancellation",
        "cartesia_voice_id_es", "deepgram_flux_base_url",
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

    @model_validator(mode="after")
    def _fallbacks_differ(self) -> Settings:
        self.check_against(self)  # raises ConfigError naming the fallback
        return self

    @property
    def uses_livekit_cloud(self) -> bool:
        return ".livekit.cloud" in self.livekit_url

    @property
    def noise_cancellation_enabled(self) -> bool:
        if self.noise_cancellation is None:
            return self.uses_livekit_cloud
        return self.noise_cancellation



class EvalSettings(BaseSettings):
    """`make eval` (tests/evals/): the model the agents run on (the worker's OPENAI_* settings), the
    model playing the caller and the model judging the agent's turns (default: the same)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    openai_api_key: SecretStr
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    eval_caller_model: str | None = None
    eval_judge_model: str | None = None

    _unset = field_validator("openai_base_url", "eval_caller_model", "eval_judge_model",
                             mode="before")(classmethod(lambda cls, v: None if v == "" else v))
    _model_default = field_validator("openai_model", mode="before")(
        classmethod(_empty_is_default))


def eval_settings() -> EvalSettings:
    return _load(EvalSettings, _default_env_file())


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


def load_provider_settings(env_file: Path | None = None) -> ProviderSettings:
    """The fallback part only (the tests build providers from it)."""
    return _load(ProviderSettings, env_file or _default_env_file())


def livekit_settings() -> LiveKitSettings:
    """The LiveKit part, for the dialer and the worker's job guard."""
    return _load(LiveKitSettings, _default_env_file())


def call_watch_settings() -> CallWatchSettings:
    return _load(CallWatchSettings, _default_env_file())


@lru_cache(maxsize=1)
def worker_settings() -> WorkerSettings:
    """The part `main.py` needs when it registers the worker, before any key is checked."""
    return _load(WorkerSettings, _default_env_file())


def load_firestore_settings(
    env_file: Path | Literal["default"] | None = "default",
) -> FirestoreSettings:
    """The database part only, for the staff scripts."""
    return _load(FirestoreSettings, _default_env_file() if env_file == "default" else env_file)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The worker's settings, read and validated once per process."""
    return load_settings()


def firestore_target_error() -> str:
    return (
        "No Firestore configured. Set FIREBASE_SERVICE_ACCOUNT_PATH to a service-account JSON "
        "file to use a real Firebase project, or set FIRESTORE_EMULATOR_HOST=host:port (with "
        "GOOGLE_CLOUD_PROJECT, default demo-restaurant) to use the local emulator."
    )
