"""The naive hand-rolled Flask stream: ``yield f"data: {x}\\n\\n"`` in a ``text/event-stream`` Response.

This is the pattern countless tutorials show; it is here as the anchor for what a framework
helper should protect you from (multi-line data, injection through event or id).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from flask import Flask, Response, request

from ._content import INTERVAL, after, hand_rolled, openai_payloads
from ._serve import serve_wsgi

app = Flask(__name__)


@app.get("/events")
def events() -> Response:
    last_event_id = request.headers.get("Last-Event-ID")

    def generate() -> Iterator[str]:
        for item in after(last_event_id):
            time.sleep(INTERVAL)
            yield hand_rolled(item.data, item.event, item.id)

    return Response(generate(), mimetype="text/event-stream")


@app.route("/openai", methods=["GET", "POST"])
def openai() -> Response:
    def generate() -> Iterator[str]:
        for payload in openai_payloads():
            time.sleep(INTERVAL)
            yield hand_rolled(payload)

    return Response(generate(), mimetype="text/event-stream")


def create_app() -> Flask:
    return app


if __name__ == "__main__":
    serve_wsgi(create_app())
