"""The command line of a script that writes a checked-in file from the code
(scripts/outbound_deny.py, scripts/dialable_area_codes.py): `--write` rewrites it, `--check` exits
1 when it differs, neither prints what would be written."""

from __future__ import annotations

import argparse


def write_or_check(argv: list[str] | None, doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    return parser.parse_args(argv)
