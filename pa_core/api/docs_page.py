"""GET /docs when PA_API_DOCS=1: a plain HTML list of the endpoints, linking to /openapi.json.

No script and no asset from a CDN: the page is rendered here from the app's OpenAPI document.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

DOCS_PATH = "/docs"
_METHODS = ("get", "post", "put", "patch", "delete")


def docs_html(openapi: dict[str, Any]) -> str:
    """The page: title, description, one row per operation, a link to the OpenAPI document."""
    info = openapi.get("info", {})
    rows = []
    for path, item in openapi.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op:
                summary = html.escape(op.get("summary") or op.get("description") or "")
                rows.append(
                    f"<tr><td><code>{method.upper()}</code></td>"
                    f"<td><code>{html.escape(path)}</code></td><td>{summary}</td></tr>"
                )
    title = html.escape(info.get("title", "API"))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td{padding:.2em .8em;vertical-align:top}</style></head><body>"
        f"<h1>{title} {html.escape(str(info.get('version', '')))}</h1>"
        f"<p>{html.escape(info.get('description', ''))}</p>"
        "<p>The full description: <a href='/openapi.json'>/openapi.json</a> "
        "(open it in any OpenAPI viewer).</p>"
        f"<table>{''.join(rows)}</table></body></html>"
    )


def add_docs_page(app: FastAPI) -> None:
    """Serve the page at /docs (outside the OpenAPI document)."""

    @app.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi()))
