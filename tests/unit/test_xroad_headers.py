"""The X-Road headers of a call: read when plain, refused (never repeated) when not, kept out when a person's code."""

from __future__ import annotations

import pytest

from broker.domain.errors import ErrorCode, Rejection
from broker.domain.xroad import XRoadCall, xroad_call

CLIENT = "FI/GOV/0245437-2/kela-etuudet"


def _read(headers: dict[str, str]) -> XRoadCall:
    """Parse `headers` as the middleware does (header names case-insensitive)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return xroad_call(lambda name: lowered.get(name.lower()))


def test_plain_headers_are_read() -> None:
    """A security server's id, a four-part client and an official's user id are taken as they are."""
    call = _read(
        {"X-Road-Id": "fa2e18a5-c2cb-4d09-b994-f57727f7c3d2", "X-Road-Client": CLIENT, "X-Road-UserId": "KE1234"}
    )
    assert call == XRoadCall("fa2e18a5-c2cb-4d09-b994-f57727f7c3d2", CLIENT, "KE1234")
    assert call.usage_details() == {
        "x_road_client": CLIENT,
        "x_road_user_id": "KE1234",
        "x_road_id": "fa2e18a5-c2cb-4d09-b994-f57727f7c3d2",
    }


def test_a_call_not_through_x_road_has_none() -> None:
    """Without the headers nothing is read and the usage log gets no X-Road fields."""
    call = _read({})
    assert call == XRoadCall()
    assert call.usage_details() == {}


def test_a_member_without_subsystem_is_read() -> None:
    """`INSTANCE/CLASS/MEMBER` (a member calling as itself) is a valid client too."""
    assert _read({"X-Road-Client": "FI/GOV/0245437-2"}).client == "FI/GOV/0245437-2"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Road-Id", ""),
        ("X-Road-Id", "x" * 129),
        ("X-Road-Id", "id\nforged=1"),
        ("X-Road-Id", "id with spaces"),
        ("X-Road-Client", "FI/GOV"),
        ("X-Road-Client", "FI/GOV/0245437-2/kela/extra"),
        ("X-Road-Client", "FI//0245437-2/kela"),
        ("X-Road-Client", "FI/GOV/" + "m" * 65),
        ("X-Road-Client", 'FI/GOV/1/"x"'),
        ("X-Road-UserId", ""),
        ("X-Road-UserId", "u" * 129),
        ("X-Road-UserId", "ö-user"),
        ("X-Road-UserId", "user;drop"),
    ],
)
def test_an_odd_header_is_refused_without_repeating_it(name: str, value: str) -> None:
    """Empty, too long, wrong shape or odd characters: `x-road-header-invalid`, naming the header, not the value."""
    with pytest.raises(Rejection) as refused:
        _read({name: value})
    assert refused.value.code is ErrorCode.X_ROAD_HEADER_INVALID
    assert name in refused.value.detail
    assert not value or value not in refused.value.detail


def test_an_official_named_by_identity_code_is_refused() -> None:
    """An `X-Road-UserId` that is (or holds) a personal identity code never reaches a log: refused."""
    for value in ("120390-912T", "FI120390-912T"):
        with pytest.raises(Rejection) as refused:
            _read({"X-Road-UserId": value})
        assert refused.value.code is ErrorCode.X_ROAD_HEADER_INVALID
        assert "120390" not in refused.value.detail
