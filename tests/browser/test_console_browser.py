"""The operator console as an operator's browser sees it: sign-in, the overview, CSRF and masking."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import Page
from prometheus_client.parser import text_string_to_metric_families

from broker.store.tables import ParkedRecord
from devinfra.samples import application_transfer
from tests.browser.conftest import LiveService
from tests.integration.audit_helpers import log_entries

pytestmark = [pytest.mark.browser, pytest.mark.integration]
IDENTITY_CODE = "120390-912T"


async def sign_in(page: Page, token: str) -> None:
    """Sign in through the form, as an operator pasting a token does."""
    await page.goto("/console/sign-in")
    await page.fill("#token", token)
    async with page.expect_navigation(url=re.compile(r"/console$")):
        await page.click("#sign-in")


async def test_an_operator_signs_in_with_a_token(console_page: Page, token_for: Callable[..., str]) -> None:
    """An operator's token typed into the sign-in form opens the overview, with the operator named on it."""
    await sign_in(console_page, token_for("silta-operator"))
    assert await console_page.locator("h1").inner_text() == "Overview"
    assert "silta-operator" in await console_page.locator("#who").inner_text()


async def test_a_post_without_the_csrf_token_is_refused(console_page: Page, token_for: Callable[..., str]) -> None:
    """The sign-out form stripped of its CSRF field is answered 403 `csrf-token-invalid`; the session stays."""
    await sign_in(console_page, token_for("silta-operator"))
    await console_page.locator("form[action='/console/sign-out'] input[name=csrf_token]").evaluate("e => e.remove()")
    async with console_page.expect_response("**/console/sign-out") as answer:
        await console_page.click("#sign-out")
    response = await answer.value
    assert response.status == 403
    assert (await response.json())["code"] == "csrf-token-invalid"
    assert (await console_page.goto("/console")).status == 200  # type: ignore[union-attr]


async def _gauges(base_url: str, name: str, label: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=base_url) as client:
        text = (await client.get("/metrics")).text
    return {
        sample.labels[label]: int(sample.value)
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    }


async def test_the_overview_shows_what_metrics_report(
    console_page: Page, live_service: LiveService, token_for: Callable[..., str]
) -> None:
    """After Kela sends a message (held in the outbox), the overview's backlog per party equals `/metrics`."""
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {token_for('kela')}"}
    async with httpx.AsyncClient(base_url=live_service.base_url) as client:
        sent = await client.post("/kela/v1/messages", headers=headers, content=application_transfer(str(uuid.uuid4())))
    assert sent.status_code == 202, sent.text
    await sign_in(console_page, token_for("silta-operator"))
    shown = {
        await row.get_attribute("data-party"): int(await row.locator(".outbox").inner_text())
        for row in await console_page.locator("#parties tr[data-party]").all()
    }
    gauges = await _gauges(live_service.base_url, "silta_outbox_pending", "recipient")
    assert list(gauges.values()) == [1]  # the one message, waiting for its organiser
    assert {party: count for party, count in shown.items() if count} == gauges


async def test_an_identity_code_is_masked_for_an_operator(
    console_page: Page, live_service: LiveService, token_for: Callable[..., str]
) -> None:
    """A parked record's error naming an identity code shows it masked to an operator, in full to data protection."""
    async with live_service.app.state.runtime.sessions.begin() as db:
        db.add(
            ParkedRecord(
                topic="silta.from.hva-08.v1",
                kafka_partition=0,
                kafka_offset=7,
                error_code="schema-invalid",
                error_detail=f"DataSubject {IDENTITY_CODE} is not allowed here",
                parked_at=dt.datetime.now(dt.UTC),
            )
        )
    await sign_in(console_page, token_for("silta-operator"))
    await console_page.goto("/console/parked")
    operator_sees = await console_page.locator("main").inner_text()
    assert "120390-9***" in operator_sees
    assert IDENTITY_CODE not in operator_sees
    await console_page.context.clear_cookies()
    await sign_in(console_page, token_for("kela-data-protection"))
    await console_page.goto("/console/parked")
    assert IDENTITY_CODE in await console_page.locator("main").inner_text()


async def test_the_audit_page_shows_the_chains(
    console_page: Page, live_service: LiveService, token_for: Callable[..., str]
) -> None:
    """From the menu to the audit page: every chain with its head, and "Verify now" finds each one sound."""
    await log_entries(live_service.app.state.runtime.services.units, "usage", 2)
    await sign_in(console_page, token_for("kela-data-protection"))
    await console_page.click("nav >> text=Audit")
    chains = console_page.locator("#chains tr[data-chain]")
    assert await chains.evaluate_all("rows => rows.map(r => r.dataset.chain)") == ["disclosure", "receipt", "usage"]
    assert await console_page.locator("#chains tr[data-chain=usage] .head").inner_text() == "2"
    async with console_page.expect_navigation():
        await console_page.click("#verify")
    assert await console_page.locator("#chains .verdict").all_inner_texts() == ["verified ok"] * 3
