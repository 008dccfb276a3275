"""The widget's static files, and in demo mode only the demo shop page.

The demo page signs any demo customer in with the installation's identity secret, so it is mounted only in
demo mode (kefu/config/demo.py): anywhere else ``/`` is a 404 and no page hands out signatures.
"""
from __future__ import annotations

import html
from pathlib import Path
from string import Template

from aiohttp import web

from kefu.config.settings import Settings
from kefu.core.identity import sign_customer

WEB_DIR = Path(__file__).resolve().parent
DEMO_CUSTOMERS = {
    "c1001": "张伟 (zh)",
    "c1002": "Emma Wilson (en)",
    "c1003": "李娜 (zh)",
    "c1004": "James Chen (en)",
}
_DEMO_TEMPLATE = Template((WEB_DIR / "demo.html").read_text(encoding="utf-8"))


def web_routes(settings: Settings) -> list[web.AbstractRouteDef]:
    """The widget's files under ``/static``; the demo shop page at ``/`` in demo mode only."""
    routes = [web.static("/static", WEB_DIR / "static", append_version=False)]
    if not settings.demo:
        return routes

    async def demo(request: web.Request) -> web.Response:
        return demo_page(request.query.get("as"), settings.identity_secret)

    return [web.get("/", demo), *routes]


def widget_tag(customer_id: str | None, secret: str) -> str:
    """The one <script> tag a shop puts in its page; the signature is computed on the shop's server, afresh
    for every page it renders (it expires)."""
    if customer_id is None:
        return '<script src="/static/widget.js" async></script>'
    signed = sign_customer(customer_id, secret)
    return (
        f'<script src="/static/widget.js" data-customer-id="{html.escape(signed.customer_id)}" '
        f'data-issued-at="{signed.issued_at}" data-signature="{signed.signature}" async></script>'
    )


def demo_page(chosen: str | None, identity_secret: str) -> web.Response:
    """A demo shop: pick a demo customer (``?as=c1001``) or chat anonymously."""
    customer_id = chosen if chosen in DEMO_CUSTOMERS else None
    options = "\n".join(
        f'<a class="who{" current" if cid == customer_id else ""}" href="/?as={cid}">{html.escape(label)}</a>'
        for cid, label in DEMO_CUSTOMERS.items()
    )
    body = _DEMO_TEMPLATE.substitute(
        customers=options,
        anonymous_class="who current" if customer_id is None else "who",
        widget=widget_tag(customer_id, identity_secret),
    )
    return web.Response(text=body, content_type="text/html")
