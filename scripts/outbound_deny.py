"""The numbers FreeSWITCH refuses to dial for the agent, written from outbound_rules.py's deny
list so the two gates cannot drift (freeswitch-config/dialplan/outbound_deny/deny.xml, included
at the top of the `agent_outbound` context):

* whole country codes (satellite, international networks: `NEVER_DIAL_CODES`);
* every +1 number whose area code is not a US or Canadian geographic one (the Caribbean, 5XX,
  700, N11, 900, toll-free);
* per country code, the premium-rate, shared-cost, toll-free, UAN, pager and personal-number
  ranges of every region sharing it, from phonenumbers' metadata (the locked version).

    python scripts/outbound_deny.py --write   # rewrite the file
    python scripts/outbound_deny.py --check   # exit 1 when the file differs (tests)
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from domain.outbound_rules import NEVER_DIAL_CODES, deny_patterns, nanp_area_codes  # noqa: E402
from scripts.generated import write_or_check  # noqa: E402

DENY_XML = ROOT / "freeswitch-config" / "dialplan" / "outbound_deny" / "deny.xml"


def _extension(name: str, expression: str) -> list[str]:
    return [f'  <extension name="{name}">',
            f"    <condition field=\"destination_number\" expression={quoteattr(expression)}>",
            '      <action application="respond" data="403 Forbidden"/>',
            "    </condition>",
            "  </extension>"]


def render() -> str:
    lines = ["<include>",
             f"  <!-- Written by scripts/outbound_deny.py from phonenumbers "
             f"{phonenumbers.__version__}; do not edit. -->"]
    codes = "|".join(str(c) for c in sorted(NEVER_DIAL_CODES))
    lines += _extension("deny_networks", rf"^\+(?:{codes})")
    lines += _extension("deny_nanp_elsewhere",
                        rf"^\+1(?!(?:{'|'.join(nanp_area_codes())})[2-9]\d{{6}}$)")
    for code, patterns in deny_patterns().items():
        lines += _extension(f"deny_{code}", rf"^\+{code}(?:{'|'.join(patterns)})$")
    lines.append("</include>")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = write_or_check(argv, __doc__)
    text = render()
    if args.write:
        DENY_XML.parent.mkdir(parents=True, exist_ok=True)
        DENY_XML.write_text(text)
        print(f"{text.count('<extension')} deny rules written to {DENY_XML}")
    elif args.check:
        if not DENY_XML.exists() or DENY_XML.read_text() != text:
            print(f"{DENY_XML} differs from outbound_rules.py with phonenumbers "
                  f"{phonenumbers.__version__}; run with --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
