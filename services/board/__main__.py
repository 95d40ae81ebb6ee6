"""Run the staff board, or manage its accounts from the command line.

    python -m services.board                                   # serve (BOARD_HOST:BOARD_PORT)
    python -m services.board create-user NAME --owner          # password asked twice, or from
    python -m services.board create-user NAME                  #   BOARD_NEW_PASSWORD (scripts)
    python -m services.board set-password NAME
    python -m services.board unlock NAME                       # forget NAME's sign-in back-off
    python -m services.board set-sites NAME SITE...            # an owner's other restaurants
    python -m services.board create-user NAME --owner --site casa-lupita   # (chains)

The first owner can also come from BOARD_OWNER_USERNAME + BOARD_OWNER_PASSWORD at start
(created only while no owner exists). There is no default account and no default password.
An owner of a chain signs in once on the board of BOARD_RESTAURANT (where the account lives)
and switches to each of the sites given here; each must be a restaurant of this deployment (in
the directory, `scripts/seed_menu.py --restaurant`). `set-sites NAME` with no site takes them
all away. Changing them signs the owner out everywhere.
Exit codes: 0 ok, 1 refused (bad name/password, exists, unknown site), 2 configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError  # noqa: E402
from services.board.settings import BoardSettings, load_board_settings  # noqa: E402


def _password(settings: BoardSettings) -> str:
    if settings.board_new_password is not None:
        return settings.board_new_password.get_secret_value()
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("passwords differ; nothing changed")
    return first


async def _accounts_run(settings: BoardSettings, args: argparse.Namespace) -> int:
    from services.board.auth import Accounts, AuthError
    from store import connect

    manager = await connect(settings, restaurant_id=settings.board_restaurant)
    try:
        accounts = Accounts(manager.db, settings.board_session_hours)
        try:
            if args.command == "unlock":
                from services.board.signin import SignIn

                await SignIn(manager.db).unlock(args.username)
                print(f"sign-in back-off cleared for {args.username}")
            elif args.command == "create-user":
                await _known_sites(manager, args.site or [])
                if args.site and not args.owner:
                    raise AuthError("--site: only an owner has several sites (add --owner)")
                user = await accounts.create_user(args.username, _password(settings),
                                                  "owner" if args.owner else "staff")
                if args.site:
                    user = await accounts.set_sites(user.username, args.site)
                print(f"created {user.role} {user.username}" + _on(user, accounts.home))
            elif args.command == "set-sites":
                await _known_sites(manager, args.sites)
                user = await accounts.set_sites(args.username, args.sites)
                print(f"{user.username}" + (_on(user, accounts.home) or " is on "
                                            + accounts.home + " only"))
            else:
                await accounts.update_user(args.username, password=_password(settings))
                print(f"password changed for {args.username}; their sessions ended")
        except AuthError as e:
            print(e, file=sys.stderr)
            return 1
        return 0
    finally:
        await manager.close()


async def _known_sites(manager: Any, sites: list[str]) -> None:
    """Every site must be a restaurant of this deployment (its directory entry)."""
    from services.board.auth import AuthError
    from store.directory import restaurant_ids

    known = set(await restaurant_ids(manager.client))
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise AuthError(f"no restaurant {', '.join(unknown)} in this deployment "
                        f"(known: {', '.join(sorted(known))})")


def _on(user: Any, home: str) -> str:
    return f" on {', '.join(user.may_use(home))}" if user.sites else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.board",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    create = sub.add_parser("create-user", help="add a staff (or --owner) account")
    create.add_argument("username")
    create.add_argument("--owner", action="store_true")
    create.add_argument("--site", action="append", metavar="RESTAURANT",
                        help="(owner) another restaurant this owner runs; repeat for each")
    sites = sub.add_parser("set-sites", help="an owner's restaurants besides BOARD_RESTAURANT")
    sites.add_argument("username")
    sites.add_argument("sites", nargs="*", metavar="RESTAURANT")
    reset = sub.add_parser("set-password", help="set a user's password (ends their sessions)")
    reset.add_argument("username")
    unlock = sub.add_parser("unlock", help="clear an account's sign-in back-off")
    unlock.add_argument("username")
    args = parser.parse_args(argv)
    try:
        settings = load_board_settings()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.board_log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command:
        return asyncio.run(_accounts_run(settings, args))

    import uvicorn

    from domain.redact import protect_logs
    from services.board.app import build_app
    from services.board.priority import give_way

    protect_logs()
    gave = give_way(settings.board_cpu_nice)
    logging.getLogger("board").info("CPU priority below the calls': %s",
                                    ", ".join(gave) or "unchanged")
    try:
        app = build_app(settings)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    # log_config=None: uvicorn's records (an unhandled error's traceback among them) go to the
    # root handler, which protect_logs masked, not to a handler of uvicorn's own.
    # X-Forwarded-For only from the configured proxy (a client's own header is never believed)
    trusted = settings.board_trusted_proxy.strip()
    uvicorn.run(app, host=settings.board_host, port=settings.board_port,
                log_level=settings.board_log_level.lower(), access_log=False,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None,
                log_config=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
