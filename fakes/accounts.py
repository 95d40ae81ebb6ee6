"""What a fake provider's account knows: the keys it accepts, its models, its voices.

`None` (the default) accepts anything, as the fakes always have. A set makes the fake answer
as the real API does for anything outside it: a rejected key (401), an unknown model or an
unknown voice (404), with the real services' error bodies, so `worker/provider_check.py` is
tested against the answers it will get from OpenAI, Deepgram and Cartesia.

    Accounts(keys={"fake-openai-key"}, models={"gpt-4o-mini"}, voices={"f786..."})
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

ACCOUNTS_KEY = web.AppKey("accounts", object)


@dataclass(frozen=True)
class Accounts:
    keys: frozenset[str] | None = None
    models: frozenset[str] | None = None
    voices: frozenset[str] | None = None

    @classmethod
    def of(cls, keys: Iterable[str] | None = None, models: Iterable[str] | None = None,
           voices: Iterable[str] | None = None) -> Accounts:
        return cls(None if keys is None else frozenset(keys),
                   None if models is None else frozenset(models),
                   None if voices is None else frozenset(voices))

    def key_ok(self, key: str) -> bool:
        return bool(key) and (self.keys is None or key in self.keys)

    def model_ok(self, model: str) -> bool:
        return self.models is None or model in self.models

    def voice_ok(self, voice: str) -> bool:
        return self.voices is None or voice in self.voices


def attach(app: web.Application, accounts: Accounts | None) -> None:
    app[ACCOUNTS_KEY] = accounts or Accounts()


def of(app: web.Application) -> Accounts:
    accounts = app[ACCOUNTS_KEY]
    assert isinstance(accounts, Accounts)
    return accounts


def bearer(request: web.Request, scheme: str = "Bearer") -> str:
    value = request.headers.get("Authorization", "")
    return value[len(scheme) + 1:].strip() if value.startswith(f"{scheme} ") else ""


# ------------------------------------------------- the real services' answers, by provider


def openai_error(status: int, message: str, code: str, param: str | None = None
                 ) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                        "param": param, "code": code}}, status=status)


def openai_bad_key(key: str) -> web.Response:
    shown = f"{key[:3]}{'*' * 4}{key[-4:]}" if len(key) > 8 else key
    return openai_error(401, f"Incorrect API key provided: {shown}. You can find your API key "
                        "at https://platform.openai.com/account/api-keys.", "invalid_api_key")


def openai_no_model(model: str) -> web.Response:
    return openai_error(404, f"The model `{model}` does not exist or you do not have access "
                        "to it.", "model_not_found", "model")


def openai_model(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1721172741, "owned_by": "system"}


def deepgram_bad_key() -> web.Response:
    return web.json_response({"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials.",
                              "request_id": str(uuid.uuid4())}, status=401)


def cartesia_bad_key() -> web.Response:
    return web.json_response({"error": "Invalid API key"}, status=401)


def cartesia_no_voice() -> web.Response:
    return web.json_response({"error": "Voice not found"}, status=404)


def cartesia_voice(voice_id: str) -> dict[str, Any]:
    return {"id": voice_id, "name": "Fake voice", "description": "a fake provider's voice",
            "language": "en", "is_public": True,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(0))}
