"""What the staff board reads from the environment (and `.env`, like the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from config import ConfigError, RestaurantOverrides, _default_env_file, _load
from models import DEFAULT_RESTAURANT_ID, check_restaurant_id


class BoardSettings(RestaurantOverrides):
    """Firestore target and restaurant overrides exactly as the worker reads them, plus:"""

    board_host: str = "127.0.0.1"  # compose sets 0.0.0.0 inside its network
    board_port: int = Field(default=8090, ge=1, le=65535)
    # Sign-in lasts this long from sign-in (not sliding): a tablet left at the pass signs in
    # again each shift.
    board_session_hours: float = Field(default=12.0, gt=0, le=24 * 14)
    # Send cookies only over HTTPS, `__Host-`-prefixed (compose serves the board through Caddy
    # over HTTPS and sets this). Off only for plain HTTP on loopback (`make dev`) or when the
    # user explicitly opts out of HTTPS for a trusted LAN.
    board_cookie_secure: bool = False
    # The TLS proxy in front (compose: Caddy's fixed address), comma-separated: only its
    # X-Forwarded-For names the client (sign-in throttling is per client address). Unset:
    # the header is ignored and the client is the connection's peer.
    board_trusted_proxy: str = ""
    # First owner: created at start when no owner exists yet. Never a default password.
    board_owner_username: str | None = None
    board_owner_password: SecretStr | None = None
    # `create-user` / `set-password` without a prompt (scripts): the new account's password.
    board_new_password: SecretStr | None = None
    board_log_level: str = "INFO"
    # The board's CPU priority below the calls' (services/board/priority.py): a sign-in flood
    # hashes passwords, and the calls' turns must not wait for it. 0 leaves it as started.
    board_cpu_nice: int = Field(default=10, ge=0, le=19)
    # The board's own origins, comma-separated (e.g. https://board.example.com): writes from a
    # browser must come from one of them. Unset: http://127.0.0.1:PORT and http://localhost:PORT.
    board_origins: str = ""
    # The one restaurant this board serves (its data, its staff accounts): a deployment with
    # several restaurants runs one board per restaurant, so staff of one never reach another's.
    board_restaurant: str = DEFAULT_RESTAURANT_ID

    @field_validator("board_restaurant", mode="before")
    @classmethod
    def _restaurant_slug(cls, value: Any) -> Any:
        if value in ("", None):
            return DEFAULT_RESTAURANT_ID
        return check_restaurant_id(str(value))

    @field_validator("board_owner_username", "board_owner_password", "board_new_password",
                     mode="before")
    @classmethod
    def _empty_is_unset_board(cls, value: Any) -> Any:
        return None if value == "" else value


def load_board_settings(env_file: Path | Literal["default"] | None = "default") -> BoardSettings:
    """Validated settings; ConfigError names the variable to fix."""
    settings = _load(BoardSettings, _default_env_file() if env_file == "default" else env_file)
    if settings.board_owner_username and settings.board_owner_password is None:
        raise ConfigError("BOARD_OWNER_USERNAME is set but BOARD_OWNER_PASSWORD is not")
    if settings.board_owner_password is not None and not settings.board_owner_username:
        raise ConfigError("BOARD_OWNER_PASSWORD is set but BOARD_OWNER_USERNAME is not")
    return settings
