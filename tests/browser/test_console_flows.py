"""Operators' flows through the console in a real browser: replay a parked record, open a timeline, search a case."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
from playwright.async_api import Page, expect

from broker.store.tables import MessageRecord
from devinfra.kafka import LocalKafka
from devinfra.samples import application_transfer, example_message
from entrypoints.bootstrap import Runtime
from tests.browser.conftest import LiveService
from tests.browser.test_console_browser import sign_in
from tests.integration.both_ways import inbox_items, send_as_organiser
from tests.integration.dead_letters_helpers import park, register_again
from tests.support.waiting import wait_until


def _runtime(live_service: LiveService) -> Runtime:
    runtime: Runtime = live_service.app.state.runtime
    return runtime


async def _relay_everything(live_service: LiveService) -> None:
    """Run the relay (off in these tests) until the outbox is empty: Kela's messages reach its inbox so."""
    relay = _runtime(live_service).relay
    while await relay.relay_once():
        pass


async def test_a_parked_record_replayed_from_the_dead_letter_page_reaches_kelas_inbox(
    console_page: Page, live_service: LiveService, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """Parked `key-unknown`, key registered, Replay clicked: the notice says delivered, Kela's inbox has it once."""
    runtime, message_id = _runtime(live_service), str(uuid.uuid4())
    row = await park(runtime, kafka, example_message("decision-notice", message_id=message_id))
    await register_again(runtime)
    await sign_in(console_page, token_for("silta-operator"))
    await console_page.goto("/console/parked?reason=key-unknown")
    await expect(console_page.locator(f"#parked tr[data-id='{row.id}'] .reason")).to_have_text("key-unknown")

    async with console_page.expect_navigation(url=re.compile(r"/console/parked\?notice=")):
        await console_page.click(f"text=Replay {row.id}")
    await expect(console_page.locator("#notice")).to_have_text(f"record {row.id}: delivered")
    assert await console_page.locator(f"#parked tr[data-id='{row.id}']").count() == 0  # no longer unresolved

    await console_page.goto("/console/parked?state=replayed")
    state = console_page.locator(f"#parked tr[data-id='{row.id}'] .state")
    await expect(state).to_have_text(f"replayed → {message_id}")
    await _relay_everything(live_service)
    async with httpx.AsyncClient(base_url=live_service.base_url) as kela:
        items = await inbox_items(kela, token_for("kela"), {message_id})
    assert [item["message_id"] for item in items] == [message_id]


async def test_a_message_timeline_opens_from_the_tracking_page(
    console_page: Page, live_service: LiveService, kafka: LocalKafka, token_for: Callable[..., str]
) -> None:
    """A decision notice hva-08 sent and Kela took in: its id typed in shows sender, case and each step in order."""
    message_id = str(uuid.uuid4())
    await send_as_organiser(kafka, example_message("decision-notice", message_id=message_id))
    kela_token = token_for("kela")
    await wait_until(lambda: _accepted(live_service, message_id), 60, interval_s=0.2, what="the notice accepted")
    await _relay_everything(live_service)
    async with httpx.AsyncClient(base_url=live_service.base_url) as kela:
        [item] = await inbox_items(kela, kela_token, {message_id})
        taken = await kela.post(f"{item['href']}/receipt", headers={"Authorization": f"Bearer {kela_token}"})
    assert taken.status_code == 200, taken.text

    await sign_in(console_page, token_for("silta-operator"))
    await console_page.click("nav >> text=Tracking")
    await console_page.fill("#message-id", message_id)
    async with console_page.expect_navigation(url=re.compile(r"/console/tracking\?message_id=")):
        await console_page.click("#track")
    await expect(console_page.locator("#message")).to_contain_text("hva-08 → kela")
    await expect(console_page.locator("#message .status")).to_have_text("received")
    events = await console_page.locator("#timeline .event").all_inner_texts()
    assert events == ["accepted", "published", "delivered", "received"], events


async def _accepted(live_service: LiveService, message_id: str) -> bool:
    async with _runtime(live_service).sessions() as session:
        return await session.get(MessageRecord, message_id) is not None


async def test_a_search_by_case_id_lists_only_that_case_and_links_to_its_timeline(
    console_page: Page, live_service: LiveService, token_for: Callable[..., str]
) -> None:
    """Two transfers of two cases: searching one case id lists its message alone; its link opens the timeline."""
    wanted, other = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {token_for('kela')}"}
    async with httpx.AsyncClient(base_url=live_service.base_url) as kela:
        for message_id, case_id in ((wanted, "KELA-TOTU-2026-000951"), (other, "KELA-TOTU-2026-000952")):
            sent = await kela.post(
                "/kela/v1/messages", headers=headers, content=application_transfer(message_id, case_id)
            )
            assert sent.status_code == 202, sent.text

    await sign_in(console_page, token_for("silta-operator"))
    await console_page.goto("/console/tracking")
    await console_page.fill("#case-id", "KELA-TOTU-2026-000951")
    async with console_page.expect_navigation(url=re.compile(r"/console/tracking\?search=1")):
        await console_page.click("#search-messages")
    rows = console_page.locator("#results tbody tr[data-id]")
    await expect(rows).to_have_count(1)
    assert await rows.first.get_attribute("data-id") == wanted

    async with console_page.expect_navigation(url=re.compile(r"/console/tracking\?message_id=")):
        await console_page.click(f"#results a:has-text('{wanted}')")
    await expect(console_page.locator("#message .case")).to_have_text("KELA-TOTU-2026-000951")
    assert await console_page.locator("#timeline .event").all_inner_texts() == ["accepted"]
