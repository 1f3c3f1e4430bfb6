"""What every client command shares: connection options, the SDK client, errors in one line
with a non-zero exit status, and JSON or table output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

import alibabacloud_oss_v2 as oss

from tessera.client.session import describe_error, make_client
from tessera.client.settings import ADDRESSING_STYLES, SettingsError, resolve
from tessera.client.urls import UrlError

Command = Callable[[argparse.Namespace, oss.Client], int | None]


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("-e", "--endpoint", help="server URL (default: $OSS_ENDPOINT, the profile, or "
                                                "http://127.0.0.1:9000)")
    group.add_argument("--region", help="region for V4 signatures (default: $OSS_REGION, the profile, or cn-hangzhou)")
    group.add_argument("-i", "--access-key-id", help="(default: $OSS_ACCESS_KEY_ID or the profile)")
    group.add_argument("-k", "--access-key-secret", help="(default: $OSS_ACCESS_KEY_SECRET or the profile)")
    group.add_argument("--profile", help="a profile of the configuration file (default: 'default')")
    group.add_argument("--config-file", help="configuration file (default: $TESSERA_CONFIG_FILE or ~/.tesseraconfig)")
    group.add_argument("--addressing-style", choices=ADDRESSING_STYLES,
                       help="virtual-hosted or path-style URLs (default auto: path-style for IP and localhost)")
    group.add_argument("--sign-version", choices=["v1", "v4"], default="v4", help="signature version (default v4)")


def client_command(command: Command, *, sdk_checks_uploads: bool = True) -> Callable[[argparse.Namespace], int]:
    """Run ``command`` with a client built from the options; failures become one line on stderr."""

    def run(args: argparse.Namespace) -> int:
        try:
            settings = resolve({"endpoint": args.endpoint, "region": args.region,
                                "access_key_id": args.access_key_id, "access_key_secret": args.access_key_secret,
                                "addressing_style": args.addressing_style},
                               profile=args.profile, config_file=args.config_file,
                               signature_version=args.sign_version)
            return command(args, make_client(settings, sdk_checks_uploads=sdk_checks_uploads)) or 0
        except (SettingsError, UrlError, UsageError) as error:
            print(f"tessera: {error}", file=sys.stderr)
            return 2
        except BrokenPipeError:
            raise  # main() stops quietly
        except KeyboardInterrupt:
            print("tessera: interrupted", file=sys.stderr)
            return 130
        except Exception as error:  # the SDK's errors, and the network's
            print(f"tessera: {describe_error(error)}", file=sys.stderr)
            return 1

    return run


class UsageError(ValueError):
    """A command asked for something it cannot do, said before anything is changed."""


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")
