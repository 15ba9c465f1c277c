"""The HTTP server: health answers, and in-flight requests finish when Saydo stops."""

from __future__ import annotations

import threading
import time

import requests

from bot.runner import Health
from bot.server import build_server, make_wsgi_app
from storage.db import create_db_engine
from tests.saydo_process import free_port


def serve(wsgi_app):
    port = free_port()
    server = build_server(wsgi_app, host="127.0.0.1", port=port, threads=4)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{port}"


def test_healthz_is_503_when_the_database_is_unreachable():
    engine = create_db_engine("postgresql+psycopg://nobody@127.0.0.1:1/absent")
    server, thread, url = serve(make_wsgi_app(None, Health(engine, None)))
    try:
        response = requests.get(url + "/healthz", timeout=10)
    finally:
        server.stop()
        thread.join()
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable")
    assert response.json()["scheduler"] == "disabled"


def test_stopping_lets_an_in_flight_request_finish():
    started = threading.Event()

    def slow_health() -> tuple[bool, dict]:
        started.set()
        time.sleep(1.0)
        return True, {"status": "ok"}

    server, thread, url = serve(make_wsgi_app(None, slow_health))
    result: dict = {}
    client = threading.Thread(
        target=lambda: result.update(response=requests.get(url + "/healthz", timeout=10))
    )
    client.start()
    assert started.wait(5)
    server.stop()  # what SIGTERM triggers
    client.join()
    thread.join()
    assert result["response"].status_code == 200
    assert result["response"].json() == {"status": "ok"}
