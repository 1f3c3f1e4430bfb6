"""Where the client connects and as whom: command-line options, then environment variables, then
a profile of the configuration file, then defaults that reach a Tessera server on this machine.

The configuration file (``~/.tesseraconfig``, or ``--config-file`` / ``TESSERA_CONFIG_FILE``) is
INI, shaped like ossutil's: a ``[default]`` section and ``[profile NAME]`` sections with
``accessKeyId``, ``accessKeySecret``, ``region``, ``endpoint`` and ``addressingStyle``.
``tessera config`` writes it, readable by its owner only.
"""

from __future__ import annotations

import configparser
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
DEFAULT_REGION = "cn-hangzhou"
ADDRESSING_STYLES = ("auto", "virtual", "path")
FIELDS = {  # setting → (config file key, environment variable)
    "access_key_id": ("accessKeyId", "OSS_ACCESS_KEY_ID"),
    "access_key_secret": ("accessKeySecret", "OSS_ACCESS_KEY_SECRET"),
    "region": ("region", "OSS_REGION"),
    "endpoint": ("endpoint", "OSS_ENDPOINT"),
    "addressing_style": ("addressingStyle", "OSS_ADDRESSING_STYLE"),
}


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    access_key_id: str
    access_key_secret: str
    endpoint: str = DEFAULT_ENDPOINT
    region: str = DEFAULT_REGION
    addressing_style: str = "auto"
    signature_version: str = "v4"


def config_path(explicit: str | None = None) -> Path:
    return Path(explicit or os.environ.get("TESSERA_CONFIG_FILE") or Path.home() / ".tesseraconfig")


def section_name(profile: str | None) -> str:
    return "default" if profile in (None, "", "default") else f"profile {profile}"


def read_profile(path: Path, profile: str | None) -> dict[str, str]:
    """The profile's values by setting name; an unknown named profile is an error."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    if path.exists():
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as error:
            raise SettingsError(f"cannot read {path}: {error}") from None
    section = section_name(profile)
    if not parser.has_section(section):
        if section != "default":
            raise SettingsError(f"no profile {profile!r} in {path}")
        return {}
    values = parser[section]
    return {name: values[key] for name, (key, _) in FIELDS.items() if values.get(key)}


def resolve(options: Mapping[str, str | None], *, profile: str | None, config_file: str | None,
            environ: Mapping[str, str] = os.environ, signature_version: str = "v4") -> Settings:
    """Options beat the environment, which beats the profile, which beats the defaults."""
    from_file = read_profile(config_path(config_file), profile)
    chosen: dict[str, str] = {}
    for name, (_, variable) in FIELDS.items():
        value = options.get(name) or environ.get(variable) or from_file.get(name)
        if value:
            chosen[name] = value
    missing = [FIELDS[n][1] for n in ("access_key_id", "access_key_secret") if n not in chosen]
    if missing:
        raise SettingsError(f"no credentials: set {' and '.join(missing)}, or run 'tessera config'")
    style = chosen.get("addressing_style", "auto")
    if style not in ADDRESSING_STYLES:
        raise SettingsError(f"addressing style must be one of {', '.join(ADDRESSING_STYLES)}, not {style!r}")
    return Settings(**chosen, signature_version=signature_version)  # type: ignore[arg-type]


def write_profile(path: Path, profile: str | None, values: Mapping[str, str]) -> None:
    """Set ``values`` (by setting name) in the profile, keeping every other profile; the file is
    replaced atomically and readable by its owner only (it holds secrets)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    if path.exists():
        parser.read(path, encoding="utf-8")
    section = section_name(profile)
    if not parser.has_section(section):
        parser.add_section(section)
    for name, value in values.items():
        parser[section][FIELDS[name][0]] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tesseraconfig.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)
            parser.write(out)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
