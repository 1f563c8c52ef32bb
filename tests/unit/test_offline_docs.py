"""`/docs` and `/redoc` work with no network: their HTML loads only files Silta serves itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest

from broker.settings import Settings
from entrypoints.api import create_app


def _asset_urls(page: str) -> list[str]:
    """Every URL a browser would fetch for the page: scripts, style sheets and icons."""
    tree = lxml.html.fromstring(page)
    scripts = [element.get("src") for element in tree.iter("script")]
    links = [element.get("href") for element in tree.iter("link")]
    return [url for url in [*scripts, *links] if url]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_page_loads_only_local_assets(path: str) -> None:
    """Each asset URL of the docs page is on Silta itself (no scheme, no host) and answers 200 with content."""
    app = create_app(Settings(log_json=False, log_level="WARNING"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://silta.test") as client:
        page = await client.get(path)
        assert page.status_code == 200
        urls = _asset_urls(page.text)
        assert any(url.endswith(".js") for url in urls), urls
        assert "cdn" not in page.text.lower()
        for url in urls:
            parts = urlsplit(url)
            assert (parts.scheme, parts.netloc) == ("", ""), f"{path} loads {url} from elsewhere"
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url
