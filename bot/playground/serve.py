"""`saydo playground` (and `saydo run` without Slack credentials): serve the playground."""

from __future__ import annotations

import errno
import logging
import sys
import threading
from pathlib import Path

from bot.config import ConfigError
from bot.playground.playground import Playground, files_of
from bot.playground.web import make_app
from bot.server import build_server
from bot.service import stop_on_signals, wait_for_stop

DEFAULT_DATABASE = Path("saydo-playground.db")
DEFAULT_PORT = 3000
HOST = "127.0.0.1"


def reset(database: Path) -> None:
    """Forget the playground: its database and the workspace kept beside it."""
    for path in files_of(database):
        path.unlink(missing_ok=True)


def run(database: Path, *, port: int, fresh: bool, why: str = "") -> int:
    """Serve until SIGTERM or Ctrl-C; prints one line with the address."""
    if database.suffix not in (".db", ".sqlite", ".sqlite3"):
        raise ConfigError(f"the playground's database must be a .db file (got '{database}').")
    if fresh:
        reset(database)
    # Saydo's own INFO lines (every request, every sweep) would drown the address.
    logging.getLogger().setLevel(logging.WARNING)
    playground = Playground(database)
    server = build_server(make_app(playground), host=HOST, port=port)
    try:
        server.prepare()
    except OSError as error:
        if error.errno == errno.EADDRINUSE or "already in use" in str(error).lower():
            raise ConfigError(
                f"port {port} is already in use; choose another with --port."
            ) from None
        raise
    stop = stop_on_signals()
    playground.start()
    serving = threading.Thread(target=server.serve, name="playground", daemon=True)
    serving.start()
    address = f"http://{HOST}:{server.bind_addr[1]}"
    print(
        f"Saydo playground: open {address} ({why}Slack is simulated locally; "
        f"data in {database}; Ctrl-C stops).",
        file=sys.stderr,
        flush=True,
    )
    try:
        wait_for_stop(stop)
    finally:
        playground.slack.stop_waiting()  # the page's long polls answer at once
        server.stop()
        serving.join()
        playground.stop()
    return 0
