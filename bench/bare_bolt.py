"""The baseline: a bare Bolt app whose `/saydo` handler only calls `ack("ok")`.

It is served exactly as `saydo run` serves Saydo in HTTP mode: `bot.server.make_wsgi_app`
behind `bot.server.build_server` (cheroot, same thread count), in its own process, with the
same logging set-up. Run as `python -m bench.bare_bolt --port N` with `SLACK_SIGNING_SECRET`,
`SLACK_BOT_TOKEN` and `SLACK_API_URL` in the environment; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.server import build_server, make_wsgi_app

logger = logging.getLogger("bench.bare_bolt")


def create_bare_app(*, signing_secret: str, token: str, slack_api_url: str) -> App:
    """A Bolt app with Bolt's defaults and a single `/saydo` listener that acknowledges.

    As in Saydo, the token goes in the client (`token_verification_enabled=False`: `auth.test`
    runs on the first request, not at construction).
    """
    app = App(
        signing_secret=signing_secret,
        token_verification_enabled=False,
        client=WebClient(token=token, base_url=slack_api_url),
    )

    @app.command("/saydo")
    def acknowledge(ack: Ack) -> None:
        ack("ok")

    return app


def healthy() -> tuple[bool, dict]:
    return True, {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Same logging set-up as `saydo run` (bot.config.configure_logging at LOG_LEVEL).
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    signing_secret = os.environ["SLACK_SIGNING_SECRET"]
    app = create_bare_app(
        signing_secret=signing_secret,
        token=os.environ["SLACK_BOT_TOKEN"],
        slack_api_url=os.environ["SLACK_API_URL"],
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    server = build_server(
        make_wsgi_app(app, healthy, signing_secret=signing_secret), host=args.host, port=args.port
    )
    server.prepare()
    serving = threading.Thread(target=server.serve, name="http", daemon=True)
    serving.start()
    logger.info("Bare Bolt listening on http://%s:%s/slack/events", args.host, args.port)
    while not stop.wait(0.5):  # the same wait loop as bot.runner
        pass
    server.stop()
    serving.join()


if __name__ == "__main__":
    main()
