"""Staff accounts and sign-in sessions, kept in Firestore beside the restaurant's data.

* Passwords: argon2id (argon2-cffi, the reference implementation's binding), never stored or
  logged in clear. An unknown user costs the same hash as a wrong password.
* Sessions: a random token in an HttpOnly, SameSite=Strict cookie; Firestore keeps only its
  SHA-256 (a leaked database holds no usable cookie), the user, role, a CSRF token and a fixed
  expiry. Changing a user's password, role or access ends their sessions.
* CSRF: every write must echo the session's CSRF token (header or form field) in addition to
  the SameSite cookie.

Collections: staff_users/{username}, staff_sessions/{sha256(token)}.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

Role = Literal["owner", "staff"]
ROLES: tuple[Role, ...] = ("owner", "staff")
USERS = "staff_users"
SESSIONS = "staff_sessions"
MIN_PASSWORD = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
SESSION_CACHE_S = 5.0  # a revoked session may live this long in one board process
MAX_FAILURES = 5
LOCKOUT_S = 60.0

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(ValueError):
    """A bad username, password or user operation; the message says which."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool = False

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    role: Role
    csrf: str
    expires_at: datetime

    @property
    def user(self) -> User:
        return User(self.username, self.role)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AuthError("username: 2-32 lowercase letters, digits, '.', '_' or '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"password: at least {MIN_PASSWORD} characters")
    return password


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_matches(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented or "")


class Accounts:
    """Users and sessions over the async Firestore client."""

    def __init__(self, db: firestore.AsyncClient, session_hours: float) -> None:
        self.db = db
        self.session_ttl = timedelta(hours=session_hours)
        self._cache: dict[str, tuple[float, Session | None]] = {}
        self._failures: dict[str, tuple[int, float]] = {}

    # ------------------------------------------------------------ users

    async def list_users(self) -> list[User]:
        users = [_user(s.id, s.to_dict() or {}) async for s in self.db.collection(USERS).stream()]
        return sorted(users, key=lambda u: (u.role != "owner", u.username))

    async def get_user(self, username: str) -> User | None:
        snap = await self.db.document(f"{USERS}/{username}").get()
        return _user(snap.id, snap.to_dict() or {}) if snap.exists else None

    async def create_user(self, username: str, password: str, role: Role) -> User:
        name = check_username(username)
        if role not in ROLES:
            raise AuthError(f"role: one of {', '.join(ROLES)}")
        digest = await asyncio.to_thread(_hasher.hash, check_password(password))
        try:
            await self.db.document(f"{USERS}/{name}").create({
                "username": name, "role": role, "password_hash": digest, "disabled": False,
                "created_at": datetime.now(UTC),
            })
        except gexc.Conflict:
            raise AuthError(f"user {name} already exists") from None
        return User(name, role)

    async def ensure_owner(self, username: str, password: str) -> bool:
        """Create the first owner unless an owner exists; True when one was created."""
        if any(u.role == "owner" for u in await self.list_users()):
            return False
        await self.create_user(username, password, "owner")
        return True

    async def update_user(
        self, username: str, *, role: Role | None = None, disabled: bool | None = None,
        password: str | None = None,
    ) -> User:
        user = await self.get_user(username)
        if user is None:
            raise AuthError(f"no user {username}")
        fields: dict[str, Any] = {}
        if role is not None:
            if role not in ROLES:
                raise AuthError(f"role: one of {', '.join(ROLES)}")
            fields["role"] = role
        if disabled is not None:
            fields["disabled"] = disabled
        if password is not None:
            fields["password_hash"] = await asyncio.to_thread(
                _hasher.hash, check_password(password))
        losing_owner = user.role == "owner" and (role == "staff" or disabled)
        if losing_owner and not await self._other_active_owner(username):
            raise AuthError("the last owner cannot be removed or disabled")
        if fields:
            await self.db.document(f"{USERS}/{username}").update(fields)
            await self.end_sessions_of(username)
        return (await self.get_user(username)) or user

    async def _other_active_owner(self, username: str) -> bool:
        return any(u.role == "owner" and not u.disabled and u.username != username
                   for u in await self.list_users())

    # ------------------------------------------------------------ sign-in

    async def authenticate(self, username: str, password: str) -> User | None:
        name = username.strip().lower()
        count, since = self._failures.get(name, (0, 0.0))
        if count >= MAX_FAILURES and time.monotonic() - since < LOCKOUT_S:
            return None
        snap = await self.db.document(f"{USERS}/{name}").get() if name else None
        data = (snap.to_dict() or {}) if snap is not None and snap.exists else {}
        ok = await asyncio.to_thread(_verify, data.get("password_hash") or _DUMMY_HASH, password)
        if not ok or not data or data.get("disabled"):
            self._failures[name] = (count + 1, time.monotonic())
            return None
        self._failures.pop(name, None)
        return _user(name, data)

    async def start_session(self, user: User, now: datetime | None = None) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = now or datetime.now(UTC)
        session = Session(_token_hash(token), user.username, user.role,
                          secrets.token_urlsafe(32), now + self.session_ttl)
        await self.db.document(f"{SESSIONS}/{session.token_hash}").set({
            "username": session.username, "role": session.role, "csrf": session.csrf,
            "expires_at": session.expires_at, "created_at": now,
        })
        return token, session

    async def session(self, token: str | None) -> Session | None:
        """The live session for a cookie value, or None (unknown, expired, signed out)."""
        if not token or len(token) > 100:
            return None
        key = _token_hash(token)
        now = datetime.now(UTC)
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < SESSION_CACHE_S:
            found = cached[1]
        else:
            snap = await self.db.document(f"{SESSIONS}/{key}").get()
            found = _session(key, snap.to_dict() or {}) if snap.exists else None
            self._cache[key] = (time.monotonic(), found)
            if len(self._cache) > 10_000:
                self._cache.clear()
        if found is None or found.expired(now):
            return None
        return found

    async def end_session(self, token: str | None) -> None:
        if token:
            key = _token_hash(token)
            self._cache.pop(key, None)
            await self.db.document(f"{SESSIONS}/{key}").delete()

    async def end_sessions_of(self, username: str) -> None:
        query = self.db.collection(SESSIONS).where(filter=FieldFilter("username", "==", username))
        async for snap in query.stream():
            self._cache.pop(snap.id, None)
            await snap.reference.delete()

    async def purge_expired(self) -> int:
        query = self.db.collection(SESSIONS).where(
            filter=FieldFilter("expires_at", "<", datetime.now(UTC)))
        n = 0
        async for snap in query.stream():
            await snap.reference.delete()
            n += 1
        return n


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(username: str, data: dict[str, Any]) -> User:
    role = data.get("role")
    return User(username, role if role in ROLES else "staff", bool(data.get("disabled")))


def _session(key: str, data: dict[str, Any]) -> Session | None:
    try:
        role = data["role"] if data["role"] in ROLES else "staff"
        return Session(key, data["username"], role, data["csrf"], data["expires_at"])
    except KeyError:
        return None
