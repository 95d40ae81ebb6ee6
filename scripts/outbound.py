"""Schedule and list the restaurant's outbound calls (reminders and call-backs).

    python scripts/outbound.py remind CODE          a reminder for booking CODE
    python scripts/outbound.py callback MESSAGE_ID  a call back for a saved message
    python scripts/outbound.py list                 every outbound call and where it stands
    python scripts/outbound.py dont-call +1617...   store a guest's "don't call me again"
    python scripts/outbound.py --restaurant casa-lupita list

Every command works on ONE restaurant, `--restaurant ID` (default `main`): its bookings,
messages, queue and opt-outs; nothing here reads or writes another restaurant's.

Calls are only ever scheduled from a booking or a message the restaurant holds, and only to
numbers it may dial (domain/outbound_rules.py); the rules are checked again when a dialer claims
one. Talks to the Firestore the environment names (FIRESTORE_EMULATOR_HOST, GOOGLE_CLOUD_PROJECT).
Exit status: 0 done, 1 refused (the reason is printed), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import ConfigError, load_firestore_settings  # noqa: E402
from domain.contact import to_e164  # noqa: E402
from domain.refusal import Refusal  # noqa: E402
from models import DEFAULT_RESTAURANT_ID, SETTINGS_DOC, RestaurantSettings  # noqa: E402
from store import make_async_client, parse_settings  # noqa: E402
from store.outbound import OutboundQueue, Policy  # noqa: E402
from store.scope import scoped  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--restaurant", default=DEFAULT_RESTAURANT_ID, metavar="ID",
                   help=f"the restaurant to work on (default {DEFAULT_RESTAURANT_ID!r})")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("remind", help="a reminder call for a booking").add_argument("code")
    sub.add_parser("callback", help="a call back for a message").add_argument("message_id")
    sub.add_parser("list", help="every outbound call")
    sub.add_parser("dont-call", help="never call this number again").add_argument("phone")
    return p


async def run(args: argparse.Namespace) -> int:
    try:
        client = scoped(make_async_client(load_firestore_settings()), args.restaurant)
    except ValueError as e:  # not a restaurant id
        print(f"--restaurant: {e}", file=sys.stderr)
        return 2
    snap = await client.document(SETTINGS_DOC).get()
    settings = parse_settings(snap.to_dict() if snap.exists else None) or RestaurantSettings(
        name="our restaurant")
    queue = OutboundQueue(client, Policy.of(settings))
    now = datetime.now(UTC)
    try:
        if args.command == "remind":
            call = await queue.schedule_reminder(args.code, now)
            print(f"{call.id}: {call.status}, first try {call.next_try_at:%Y-%m-%d %H:%M %Z}")
        elif args.command == "callback":
            call = await queue.schedule_callback(args.message_id, now)
            print(f"{call.id}: {call.status}, first try {call.next_try_at:%Y-%m-%d %H:%M %Z}")
        elif args.command == "dont-call":
            phone = to_e164(args.phone)
            if phone is None:
                raise Refusal(f"{args.phone!r} is not a phone number")
            await queue.opt_out(phone, now)
            print(f"{phone}: will not be called again")
        else:
            for call in await queue.list_calls():
                when = f"{call.next_try_at:%Y-%m-%d %H:%M %Z}" if call.next_try_at else "-"
                print(f"{call.id:32} {call.kind:8} {call.status:8} tries {call.attempts}/"
                      f"{call.max_attempts} next {when:22} {call.outcome or ''}")
    except Refusal as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
