"""The US area codes FreeSWITCH lets the agent's outbound trunk dial (freeswitch-config/vars.xml).

FreeSWITCH is the last gate before the provider: whatever asks it to dial, a guest's number
must be a US geographic number (fixed line or mobile). That excludes premium rate (900, and
976 which is no area code at all), toll-free (8XX), and every other country of the North
American Numbering Plan (Canada, the Caribbean: +1 809 and friends are international calls and
the classic toll-fraud targets). The list comes from phonenumbers' metadata (the version in
requirements.txt) so it cannot drift from domain/outbound_rules.py, which checks the same numbers in
Python before a call is queued:

    python scripts/dialable_area_codes.py           # print the list
    python scripts/dialable_area_codes.py --write   # rewrite it in freeswitch-config/vars.xml
    python scripts/dialable_area_codes.py --check   # exit 1 when vars.xml differs (tests)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.generated import write_or_check  # noqa: E402

VARS_XML = ROOT / "freeswitch-config" / "vars.xml"
LINE = re.compile(r'(<X-PRE-PROCESS cmd="set" data="outbound_us_area_codes=)([0-9|]*)("/>)')
GEOGRAPHIC = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE,
              PhoneNumberType.FIXED_LINE_OR_MOBILE}


def us_area_codes() -> list[str]:
    """Area codes whose numbers phonenumbers calls valid US fixed-line or mobile numbers."""
    codes = []
    for npa in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}2345678", None)
        if (phonenumbers.region_code_for_number(number) == "US"
                and phonenumbers.is_valid_number(number)
                and phonenumbers.number_type(number) in GEOGRAPHIC):
            codes.append(str(npa))
    return codes


def in_vars_xml(text: str) -> list[str]:
    m = LINE.search(text)
    if m is None:
        raise SystemExit(f"{VARS_XML}: no outbound_us_area_codes line")
    return m.group(2).split("|")


def main(argv: list[str] | None = None) -> int:
    args = write_or_check(argv, __doc__)
    codes = us_area_codes()
    if args.write:
        text = VARS_XML.read_text()
        in_vars_xml(text)
        VARS_XML.write_text(LINE.sub(lambda m: m.group(1) + "|".join(codes) + m.group(3), text))
        print(f"{len(codes)} area codes written to {VARS_XML}")
    elif args.check:
        have = in_vars_xml(VARS_XML.read_text())
        if have != codes:
            print(f"vars.xml differs from phonenumbers {phonenumbers.__version__}: "
                  f"missing {sorted(set(codes) - set(have))}, extra "
                  f"{sorted(set(have) - set(codes))}; run with --write", file=sys.stderr)
            return 1
    else:
        print("|".join(codes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
