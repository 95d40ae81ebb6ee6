"""Staff accounts and sign-in sessions of one restaurant's board, as stored: `staff_users/{name}`
(role, password hash, disabled) and `staff_sessions/{token hash}` (never the token itself).
What they mean (hashing, roles, expiry) is the board's (services/board/auth.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from store.scope import RestaurantScope

USERS = "staff_users"
SESSIONS = "staff_sessions"


class AccountExists(Exception):
    pass


class AccountRecords:
    def __init__(self, db: firestore.AsyncClient | RestaurantScope) -> None:
        self.db = db

    async def users(self) -> list[tuple[str, dict[str, Any]]]:
        return [(s.id, s.to_dict() or {}) async for s in self.db.collection(USERS).stream()]

    async def user(self, username: str) -> dict[str, Any] | None:
        snap = await self.db.document(f"{USERS}/{username}").get()
        return (snap.to_dict() or {}) if snap.exists else None

    async def create_user(self, username: str, fields: dict[str, Any]) -> None:
        try:
            await self.db.document(f"{USERS}/{username}").create(fields)
        except gexc.Conflict:
            raise AccountExists(username) from None

    async def update_user(self, username: str, fields: dict[str, Any]) -> None:
        await self.db.document(f"{USERS}/{username}").update(fields)

    async def put_session(self, key: str, fields: dict[str, Any]) -> None:
        await self.db.document(f"{SESSIONS}/{key}").set(fields)

    async def update_session(self, key: str, fields: dict[str, Any]) -> bool:
        """False when the session is gone (signed out meanwhile): nothing is written."""
        try:
            await self.db.document(f"{SESSIONS}/{key}").update(fields)
        except gexc.NotFound:
            return False
        return True

    async def session(self, key: str) -> dict[str, Any] | None:
        snap = await self.db.document(f"{SESSIONS}/{key}").get()
        return (snap.to_dict() or {}) if snap.exists else None

    async def delete_session(self, key: str) -> None:
        await self.db.document(f"{SESSIONS}/{key}").delete()

    async def delete_sessions_of(self, username: str) -> list[str]:
        """End every session of `username`; the keys that were deleted."""
        query = self.db.collection(SESSIONS).where(filter=FieldFilter("username", "==", username))
        gone = []
        async for snap in query.stream():
            await snap.reference.delete()
            gone.append(snap.id)
        return gone

    async def delete_sessions_before(self, now: datetime) -> int:
        """Delete the sessions that expired before `now`; how many."""
        query = self.db.collection(SESSIONS).where(filter=FieldFilter("expires_at", "<", now))
        n = 0
        async for snap in query.stream():
            await snap.reference.delete()
            n += 1
        return n
