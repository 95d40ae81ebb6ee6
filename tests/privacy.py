"""What a leaked phone or card number looks like, for tests that assert none leaked.

Test cards here have distinct digit groups: with "4111 1111 1111 1111" a leaked last four
("1111") is indistinguishable from any other run of ones, and a check for the full number
passes as soon as one digit of it is dropped. These are Luhn-valid (the redactor only removes
numbers that pass the Luhn check) and shaped like the card brands a caller would read out.
"""

from __future__ import annotations

import re

CARD = "4927 5836 1047 2539"  # Visa-shaped, 16 digits
CARDS = (CARD, "5263-9047-1826-4959", "371468205937188")  # Mastercard-, Amex-shaped
CALLER = "+16175550199"
# Every way the caller's number shows up in text we log: caller ID, SIP room name, national
# digits, spoken groups, dashes, dots, brackets, a tel:/sip: URI, and 1 + ten digits.
PHONE_FORMATS = (
    CALLER, f"call-_{CALLER}_Xb7Qp2", "16175550199", "6175550199", "617 555 0199",
    "617-555-0199", "617.555.0199", "(617) 555-0199", "+1 617 555 0199", "+1-617-555-0199",
    f"sip:{CALLER}@10.0.0.1", f"tel:{CALLER}", "1 617 555 0199",
)
_SEP = r"[ .\-()]{0,2}"


def digit_runs(number: str, text: str, run: int = 4) -> list[str]:
    """Every `run` consecutive digits of `number` that are still in `text`, in order and with
    the separators people write between digit groups allowed."""
    digits = re.sub(r"\D", "", number)
    found = []
    for i in range(len(digits) - run + 1):
        window = digits[i:i + run]
        if re.search(_SEP.join(window), text):
            found.append(window)
    return found


def phone_leaks(text: str, number: str = CALLER) -> list[str]:
    """Runs of 5 or more of the number's last ten digits in `text` (a masked number keeps only
    its last two, so any longer run means the number can be called back)."""
    return digit_runs(re.sub(r"\D", "", number)[-10:], text, run=5)
