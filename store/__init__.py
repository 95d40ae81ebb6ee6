"""Firestore persistence for the phone line, by concern.

* `errors`: what the store raises and returns (SlotFull, CodeTaken, SaveResult, …);
* `rpc`: round-trip counting and one bounded try per RPC;
* `clients`: credentials and the async/sync clients for a project or the emulator;
* `retries`: which errors are retried and for how long;
* `repository`: `FirebaseManager`, every read and write (one atomic commit per order, seat
  capacity under preconditions or transactions, the durable outbox when Firestore is down);
* `parsing`: documents to typed records (bad ones logged and skipped);
* `menu_watch`: the live menu and settings from Firestore listeners;
* `call_records`: the call log's lifecycle (in progress, completed, crashed) and the
  resumable call snapshot (a mixin of `FirebaseManager`).
"""

from store import errors
from store.clients import close_sync_client, make_async_client, make_sync_client
from store.errors import *  # noqa: F403 (every error and save result: errors.__all__)
from store.menu_watch import MenuWatch
from store.parsing import customer_from_doc, parse_menu_item, parse_settings
from store.repository import FirebaseManager, connect
from store.rpc import RpcCounter

__all__ = [
    *errors.__all__, "FirebaseManager", "MenuWatch", "RpcCounter", "close_sync_client",
    "connect", "customer_from_doc", "make_async_client", "make_sync_client", "parse_menu_item",
    "parse_settings",
]
