"""What an X-Road security server tells Silta about a call: its id, the calling member and the acting official.

Kela calls Silta through a security server, which adds three headers to the
REST request (X-Road message protocol for REST): `X-Road-Id`, the call's
unique id; `X-Road-Client`, the calling subsystem as
`INSTANCE/CLASS/MEMBER/SUBSYSTEM` (e.g. `FI/GOV/0245437-2/kela-etuudet`); and
`X-Road-UserId`, the official acting in the client system. Silta takes the id
as the request id, names the member in its logs, and writes member and
official into the usage log, "who looked at whose data" (Act 703/2023). A
value outside the plain form below is refused (`x-road-header-invalid`) and
never repeated; an official's id that is a personal identity code is refused
too, since such codes are kept out of every log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from broker.domain.errors import ErrorCode, Rejection
from broker.domain.identity_code import LOOKS_LIKE_IDENTITY_CODE

ID_HEADER = "X-Road-Id"
CLIENT_HEADER = "X-Road-Client"
USER_HEADER = "X-Road-UserId"

_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)
_PART = r"[A-Za-z0-9._:-]{1,64}"
_CLIENT = re.compile(f"{_PART}/{_PART}/{_PART}(/{_PART})?", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9._@:+-]{1,128}", re.ASCII)


@dataclass(frozen=True)
class XRoadCall:
    """The X-Road headers of one request, each None when the request did not come through a security server."""

    call_id: str | None = None
    client: str | None = None
    user_id: str | None = None

    def usage_details(self) -> dict[str, str]:
        """What the usage log records of the call: the calling member, the official and the call id."""
        details = {"x_road_client": self.client, "x_road_user_id": self.user_id, "x_road_id": self.call_id}
        return {name: value for name, value in details.items() if value is not None}


def xroad_call(header: Callable[[str], str | None]) -> XRoadCall:
    """The X-Road headers read with `header` (a case-insensitive lookup); `x-road-header-invalid` if one is odd."""
    return XRoadCall(
        _checked(header(ID_HEADER), ID_HEADER, _ID),
        _checked(header(CLIENT_HEADER), CLIENT_HEADER, _CLIENT),
        _official(header(USER_HEADER)),
    )


def _checked(value: str | None, name: str, form: re.Pattern[str]) -> str | None:
    if value is None:
        return None
    if form.fullmatch(value) is None:
        raise Rejection(ErrorCode.X_ROAD_HEADER_INVALID, f"the {name} header is not in the form X-Road gives it")
    return value


def _official(value: str | None) -> str | None:
    checked = _checked(value, USER_HEADER, _USER)
    if checked is not None and LOOKS_LIKE_IDENTITY_CODE.search(checked):
        raise Rejection(
            ErrorCode.X_ROAD_HEADER_INVALID, f"the {USER_HEADER} header must name an official's user id, not a person"
        )
    return checked
