"""Staff accounts and sign-in sessions, kept in Firestore beside the restaurant's data.

* Passwords: argon2id (argon2-cffi, the reference implementation's binding), never stored or
  logged in clear. An unknown user costs the same hash as a wrong password. Sign-in attempts
  (back-off, the bounded hash queue) are board/signin.py's.
* Sessions: a random token in an HttpOnly, SameSite=Strict cookie; Firestore keeps only its
  SHA-256 (a leaked database holds no usable cookie), the user, role, a CSRF token and a fixed
  expiry. Changing a user's password, role or access ends their sessions.
* CSRF: every write must echo the session's CSRF token (header or form field) in addition to
  the SameSite cookie.
* Sites (chains): accounts belong to the board's own restaurant (its home site). An owner may
  also be given other restaurants (`sites`, only from the command line: `set-sites`); the
  session carries the site it is on, which only an owner changes, to one of their sites.
  Changing an owner's sites ends their sessions, so no session stays on a site taken away.

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
from google.cloud import firestore

from store.accounts import AccountExists, AccountRecords
from store.scope import DEFAULT_RESTAURANT_ID, RestaurantScope, check_restaurant_id

Role = Literal["owner", "staff"]
ROLES: tuple[Role, ...] = ("owner", "staff")
MIN_PASSWORD = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
SESSION_CACHE_S = 1.0  # a revoked session may live this long in one board process

_hasher = PasswordHasher()
_DUMMY: list[str] = []


def dummy_hash() -> str:
    """What an unknown user's password is checked against (same cost as a real one)."""
    if not _DUMMY:
        _DUMMY.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


class AuthError(ValueError):
    """A bad username, password or user operation; the message says which."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    disabled: bool = False
    sites: tuple[str, ...] = ()  # an owner's restaurants besides the board's own

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def may_use(self, home: str) -> tuple[str, ...]:
        """The sites this user may be on: the board's own, and an enabled owner's others."""
        if self.disabled or not self.is_owner:
            return (home,)
        return (home, *(s for s in self.sites if s != home))


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    role: Role
    csrf: str
    expires_at: datetime
    site: str = ""  # the restaurant this session is on; "" is the board's own

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
    """Bytes, not str: a non-ASCII token is a mismatch, not a TypeError (500)."""
    return bool(presented) and hmac.compare_digest(
        session.csrf.encode(), (presented or "").encode("utf-8", "replace"))


class Accounts:
    """Users and sessions over the async Firestore client."""

    def __init__(self, db: firestore.AsyncClient | RestaurantScope, session_hours: float) -> None:
        self.db = db
        # the board's own restaurant: where these accounts live, every session's first site
        self.home: str = getattr(db, "restaurant_id", DEFAULT_RESTAURANT_ID)
        self.records = AccountRecords(db)
        self.session_ttl = timedelta(hours=session_hours)
        self._cache: dict[str, tuple[float, Session | None]] = {}

    # ------------------------------------------------------------ users

    async def list_users(self) -> list[User]:
        users = [_user(name, data) for name, data in await self.records.users()]
        return sorted(users, key=lambda u: (u.role != "owner", u.username))

    async def get_user(self, username: str) -> User | None:
        data = await self.records.user(username)
        return _user(username, data) if data is not None else None

    async def create_user(self, username: str, password: str, role: Role) -> User:
        name = check_username(username)
        if role not in ROLES:
            raise AuthError(f"role: one of {', '.join(ROLES)}")
        digest = await asyncio.to_thread(_hasher.hash, check_password(password))
        try:
            await self.records.create_user(name, {
                "username": name, "role": role, "password_hash": digest, "disabled": False,
                "created_at": datetime.now(UTC),
            })
        except AccountExists:
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
            if role == "staff":
                fields["sites"] = []  # made owner again, they do not get the sites back
        if disabled is not None:
            fields["disabled"] = disabled
        losing_owner = user.role == "owner" and (role == "staff" or disabled)
        if losing_owner and not await self._other_active_owner(username):
            raise AuthError("the last owner cannot be removed or disabled")
        if password is not None:
            check_password(password)
            # the old password's sessions end now, not after the new one's (slow) hash
            await self.end_sessions_of(username)
            fields["password_hash"] = await asyncio.to_thread(_hasher.hash, password)
        if fields:
            await self.records.update_user(username, fields)
            await self.end_sessions_of(username)
        return (await self.get_user(username)) or user

    async def set_sites(self, username: str, sites: list[str]) -> User:
        """Give an owner these restaurants besides the board's own (empty: only the board's
        own). Ends their sessions: none stays on a site taken away."""
        user = await self.get_user(username)
        if user is None:
            raise AuthError(f"no user {username}")
        if sites and not user.is_owner:
            raise AuthError(f"{username} is staff: only an owner has several sites")
        try:
            wanted = list(dict.fromkeys(check_restaurant_id(s) for s in sites))
        except ValueError as e:
            raise AuthError(f"sites: {e}") from None
        await self.records.update_user(username, {
            "sites": [s for s in wanted if s != self.home]})
        await self.end_sessions_of(username)
        return (await self.get_user(username)) or user

    async def switch_site(self, session: Session, site: str) -> Session | None:
        """Put `session` on `site`, which the caller checked is one of its user's sites;
        None when the session ended meanwhile."""
        moved = Session(session.token_hash, session.username, session.role, session.csrf,
                        session.expires_at, "" if site == self.home else site)
        if not await self.records.update_session(session.token_hash, {"site": moved.site}):
            return None
        self._cache[session.token_hash] = (time.monotonic(), moved)
        return moved

    async def _other_active_owner(self, username: str) -> bool:
        return any(u.role == "owner" and not u.disabled and u.username != username
                   for u in await self.list_users())

    # ------------------------------------------------------------ sign-in

    async def start_session(self, user: User, now: datetime | None = None) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = now or datetime.now(UTC)
        session = Session(_token_hash(token), user.username, user.role,
                          secrets.token_urlsafe(32), now + self.session_ttl)
        await self.records.put_session(session.token_hash, {
            "username": session.username, "role": session.role, "csrf": session.csrf,
            "expires_at": session.expires_at, "created_at": now,
        })
        return token, session

    async def session(self, token: str | None, *, fresh: bool = False) -> Session | None:
        """The live session for a cookie value, or None (unknown, expired, signed out).
        `fresh`: read the database, not this process's short cache."""
        if not token or len(token) > 100:
            return None
        key = _token_hash(token)
        now = datetime.now(UTC)
        cached = self._cache.get(key)
        if cached and not fresh and time.monotonic() - cached[0] < SESSION_CACHE_S:
            found = cached[1]
        else:
            data = await self.records.session(key)
            found = _session(key, data) if data is not None else None
            self._cache[key] = (time.monotonic(), found)
            if len(self._cache) > 10_000:
                self._cache.clear()
        if found is None or found.expired(now):
            return None
        return found

    def known_site(self, token_hash: str) -> str | None:
        """The site this process last saw `token_hash`'s session on (a switch here is seen at
        once, whatever the cache's age); None when not known."""
        cached = self._cache.get(token_hash)
        return cached[1].site if cached and cached[1] is not None else None

    async def end_session(self, token: str | None) -> None:
        if token:
            key = _token_hash(token)
            self._cache.pop(key, None)
            await self.records.delete_session(key)

    async def end_sessions_of(self, username: str) -> None:
        for key in await self.records.delete_sessions_of(username):
            self._cache.pop(key, None)

    async def purge_expired(self) -> int:
        """Delete expired sessions (and, store/signin.py, stale sign-in counters)."""
        from store.signin import SignInRecords

        n = await self.records.delete_sessions_before(datetime.now(UTC))
        return n + await SignInRecords(self.db).sweep()


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(username: str, data: dict[str, Any]) -> User:
    role = data.get("role")
    sites = data.get("sites")
    return User(username, role if role in ROLES else "staff", bool(data.get("disabled")),
                tuple(str(s) for s in sites) if isinstance(sites, list) else ())


def _session(key: str, data: dict[str, Any]) -> Session | None:
    try:
        role = data["role"] if data["role"] in ROLES else "staff"
        return Session(key, data["username"], role, data["csrf"], data["expires_at"],
                       str(data.get("site") or ""))
    except KeyError:
        return None
