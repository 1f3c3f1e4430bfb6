"""``tessera serve``: its options. The server itself (``tessera.cli.serving``) loads only when it
runs, so describing the options — which every ``tessera`` command does — stays light."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable


def add_parser(commands: Any, storage_options: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = commands.add_parser("serve", help="run the server (SQLite + ./tessera-data by default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9000, help="port to listen on (default: 9000)")
    storage_options(parser)
    parser.add_argument("--region", default="cn-hangzhou", help="region for V4 signatures (default: cn-hangzhou)")
    parser.add_argument("--domain", default=None,
                        help="base domain for virtual-hosted requests (<bucket>.<domain>); path style always works")
    parser.add_argument("--workers", type=int, default=1, help="server processes sharing the port (default: 1)")
    parser.add_argument("--shutdown-grace", type=_seconds, default=30.0, metavar="SECONDS",
                        help="on SIGTERM or SIGINT, how long requests in progress get to finish before they "
                             "are cut (default: 30)")
    parser.add_argument("--lifecycle-at", default="00:00", type=_time_of_day, metavar="HH:MM",
                        help="run lifecycle rules once a day at this UTC time (default 00:00, as OSS)")
    parser.add_argument("--lifecycle-every", type=float, default=None, metavar="SECONDS",
                        help="run lifecycle rules at this interval instead of daily")
    parser.add_argument("--restore-delay", action="append", default=[], metavar="[CLASS[/TIER]=]SECONDS",
                        help="how long RestoreObject takes until a cold object is readable: SECONDS for every "
                             "class and priority, or for one class or class/tier; repeatable (default: the "
                             "longest OSS documents: Archive 60, ColdArchive/Expedited 3600, /Standard 18000, "
                             "/Bulk 43200, DeepColdArchive/Expedited 43200, /Standard 172800)")
    parser.add_argument("--restore-day", type=_positive_seconds, default=86_400.0, metavar="SECONDS",
                        help="how long one of RestoreObject's Days lasts (default: 86400; shorter for tests)")
    parser.add_argument("--metrics-token", default=os.environ.get("TESSERA_METRICS_TOKEN"), metavar="TOKEN",
                        help="require 'Authorization: Bearer TOKEN' on GET /-/metrics (default: "
                             "$TESSERA_METRICS_TOKEN; open when neither is set)")
    parser.add_argument("--console-idle-timeout", type=_positive_seconds, default=1800.0, metavar="SECONDS",
                        help="web console sessions end after this long without a request (default: 1800)")
    parser.add_argument("--console-session-lifetime", type=_positive_seconds, default=43_200.0, metavar="SECONDS",
                        help="web console sessions end this long after sign-in, used or not (default: 43200)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from tessera.cli.serving import run
    from tessera.core.restore_policy import parse_delays

    try:
        parse_delays(args.restore_delay)  # refused before the server starts
    except ValueError as error:
        print(f"tessera serve: --restore-delay: {error}", file=sys.stderr)
        return 2
    return run(args)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected more than 0 seconds")
    return value


def _time_of_day(text: str) -> tuple[int, int]:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HH:MM, not {text!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise argparse.ArgumentTypeError(f"expected HH:MM, not {text!r}")
    return hours, minutes
