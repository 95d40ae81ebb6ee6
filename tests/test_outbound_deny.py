"""The numbers a restaurant never dials, even with international calling on (outbound_rules.py;
FreeSWITCH's copy is checked against it in tests/telephony/test_freeswitch_config.py)."""

from __future__ import annotations

import pytest

from domain.outbound_rules import check_dialable
from domain.refusal import Refusal


@pytest.mark.parametrize("number", [
    "+18765550123", "+18095550123", "+12845550123", "+12465550123",  # the Caribbean's +1
    "+15005550123", "+17005550123", "+19005550123", "+18005550123",  # 5XX, 700, 900, 8XX
    "+16002012345",  # a Canadian non-geographic area code
    "+870773111632", "+881612345678", "+882345678901", "+883510012345",  # satellite, networks
    "+80012345678", "+979123456789",  # global freephone, international premium rate
    "+449098765432", "+33891123456", "+4990012345678",  # UK, France, Germany premium rate
])
def test_premium_satellite_and_caribbean_numbers_are_refused_with_international_on(number):
    with pytest.raises(Refusal, match=r"never dials|not a valid"):
        check_dialable(number, home_region="US", allow_international=True)


@pytest.mark.parametrize("number", ["+16175550123", "+14165550123", "+442079460000",
                                    "+33142685300", "+525555555555"])
def test_ordinary_guests_abroad_stay_dialable_when_enabled(number):
    assert check_dialable(number, home_region="US", allow_international=True) == number


def test_the_home_region_decides_what_is_international():
    assert check_dialable("+14165550123", home_region="CA",
                          allow_international=False) == "+14165550123"
    with pytest.raises(Refusal, match="international"):
        check_dialable("+16175550123", home_region="CA", allow_international=False)
