"""The restaurants one board serves: its own (the home site, where its accounts live) and, for
an owner of a chain, the owner's other sites (services/board/auth.py `User.sites`).

Each site's operations and live hub are built on first use and kept for the process, each
through that site's own scope: `FirebaseManager.for_restaurant` for reads and writes,
`scoped(sync_client, site)` for the listeners. Nothing here decides who may be on a site;
web.py resolves a request's site from its session, which only an owner moves (routes/sites.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.board.live import Hub
from services.board.operations import Operations
from store import FirebaseManager
from store.scope import check_restaurant_id, scoped

log = logging.getLogger("board.sites")


class Sites:
    def __init__(self, home: FirebaseManager, sync_client: Any, overrides: Any,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.home = home.restaurant_id
        self._manager = home
        self._sync_client = sync_client
        self._overrides = overrides
        self._loop = loop
        self._ops: dict[str, Operations] = {}
        self._hubs: dict[str, Hub] = {}

    def ops(self, site: str) -> Operations:
        """`site`'s operations (no connection is opened: the home client, another scope)."""
        site = check_restaurant_id(site or self.home)
        if site not in self._ops:
            self._ops[site] = Operations(self._manager.for_restaurant(site), self._sync_client,
                                         self._overrides)
        return self._ops[site]

    def hub(self, site: str) -> Hub:
        """`site`'s live hub; its listeners start on first use (an owner's first visit)."""
        site = check_restaurant_id(site or self.home)
        if site not in self._hubs:
            if site != self.home:
                log.info("starting the live hub of site %s", site)
            self._hubs[site] = Hub(scoped(self._sync_client, site), self._loop).start()
        return self._hubs[site]

    def start_home(self, today: Any) -> Hub:
        self._hubs[self.home] = Hub(scoped(self._sync_client, self.home),
                                    self._loop).start(today)
        return self._hubs[self.home]

    def close(self) -> None:
        for hub in self._hubs.values():
            hub.close()
        self._hubs.clear()
