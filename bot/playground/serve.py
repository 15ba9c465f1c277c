"""`saydo playground` (and `saydo run` without Slack credentials): serve the playground."""

from __future__ import annotations

import logging
import os
import sys
import threading
import webbrowser
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError
from bot.playground.playground import Playground, files_of
from bot.playground.web import make_app
from bot.runner import stop_on_signals, wait_for_stop
from bot.server import build_server, listen
from storage.db import database_problem

DEFAULT_DATABASE = Path("saydo-playground.db")
DEFAULT_PORT = 3000
HOST = "127.0.0.1"


def reset(database: Path) -> None:
    """Forget the playground: its database and the workspace kept beside it."""
    for path in files_of(database):
        path.unlink(missing_ok=True)


def run(database: Path, *, port: int, fresh: bool, why: str = "") -> int:
    """Serve until SIGTERM or Ctrl-C; prints one line with the address."""
    _check_database(database)
    if fresh:
        reset(database)
    # Saydo's own INFO lines (every request, every sweep) would drown the address.
    logging.getLogger().setLevel(logging.WARNING)
    playground = Playground(database)
    server = build_server(make_app(playground), host=HOST, port=port)
    listen(server, choose_another="choose another with --port")
    stop = stop_on_signals()
    serving = threading.Thread(target=server.serve, name="playground", daemon=True)
    try:
        try:
            playground.start()
        except SQLAlchemyError as error:
            raise ConfigError(
                f"cannot use {database} as the playground's database: {database_problem(error)}"
            ) from None
        serving.start()
        address = f"http://{HOST}:{server.bind_addr[1]}"
        print(
            f"Saydo playground: {opened(address)} ({why}Slack is simulated locally; "
            f"data in {database}; Ctrl-C stops).",
            file=sys.stderr,
            flush=True,
        )
        wait_for_stop(stop)
    finally:  # whatever happened, nothing is left running: the process ends
        playground.interrupt()  # a clock move or a quarter being played ends at its next sweep
        playground.slack.stop_waiting()  # the page's long polls answer at once
        server.stop()
        if serving.is_alive():
            serving.join()
        playground.stop()
    return 0


def opened(address: str) -> str:
    """Open the page in a browser when someone is at a terminal with a display to see it;
    say where it is either way. The browser starts in the background: it never holds us up."""
    on_screen = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY")
    )
    if not (sys.stdout.isatty() and on_screen):
        return f"open {address}"
    threading.Thread(target=webbrowser.open, args=(address,), name="browser", daemon=True).start()
    return f"opening {address} in your browser"


def _check_database(database: Path) -> None:
    """Refuse, in one line, a database file the playground could not create or write."""
    if database.suffix not in (".db", ".sqlite", ".sqlite3"):
        raise ConfigError(f"the playground's database must be a .db file (got '{database}').")
    folder = database.parent
    if not folder.is_dir():
        raise ConfigError(f"the folder for the playground's database does not exist: {folder}.")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        database.exists() and not os.access(database, os.R_OK | os.W_OK)
    ):
        raise ConfigError(f"the playground cannot write its database {database}.")
