"""``tessera config``: write the client's configuration file, as ``ossutil config`` does."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from tessera.client.settings import ADDRESSING_STYLES, FIELDS, config_path, read_profile, write_profile

PROMPTS = {
    "access_key_id": "AccessKey ID",
    "access_key_secret": "AccessKey Secret",
    "region": "Region",
    "endpoint": "Endpoint",
}


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser("config", help="write endpoint, region and credentials to a profile of the "
                                                "configuration file (prompts for what options do not give)")
    parser.add_argument("--profile", help="the profile to write (default: 'default')")
    parser.add_argument("--config-file", help="(default: $TESSERA_CONFIG_FILE or ~/.tesseraconfig)")
    parser.add_argument("-e", "--endpoint")
    parser.add_argument("--region")
    parser.add_argument("-i", "--access-key-id")
    parser.add_argument("-k", "--access-key-secret")
    parser.add_argument("--addressing-style", choices=ADDRESSING_STYLES)
    parser.add_argument("--no-prompt", action="store_true", help="write only what the options give")
    parser.set_defaults(run=_config)


def _config(args: argparse.Namespace) -> int:
    path = config_path(args.config_file)
    try:
        current = read_profile(path, args.profile)
    except ValueError:
        current = {}  # a new named profile
    values = {name: getattr(args, name) for name in FIELDS if getattr(args, name)}
    if not args.no_prompt:
        for name, label in PROMPTS.items():
            if name in values:
                continue
            shown = "***" if name == "access_key_secret" and current.get(name) else current.get(name, "")
            ask = getpass.getpass if name == "access_key_secret" and sys.stdin.isatty() else _ask
            answer = ask(f"{label} [{shown}]: ").strip()
            if answer:
                values[name] = answer
    if not values:
        print("tessera: nothing to write", file=sys.stderr)
        return 2
    write_profile(path, args.profile, values)
    print(f"wrote {', '.join(FIELDS[name][0] for name in values)} to profile "
          f"{args.profile or 'default'} of {path}")
    return 0


def _ask(prompt: str) -> str:
    print(prompt, end="", flush=True)
    return sys.stdin.readline()
