"""Client settings: options beat the environment, which beats the profile, which beats defaults."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from tessera.client.lifecycle_form import FormError, from_xml, guess_format, to_xml
from tessera.client.settings import SettingsError, resolve, write_profile
from tessera.client.urls import UrlError, parse_url

NOTHING: dict[str, str | None] = {}


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "config"
    write_profile(config, None, {"access_key_id": "file-id", "access_key_secret": "file-secret",
                                 "endpoint": "http://file:1", "region": "file-region"})
    write_profile(config, "dev", {"access_key_id": "dev-id", "access_key_secret": "dev-secret"})
    env = {"OSS_ACCESS_KEY_ID": "env-id", "OSS_ACCESS_KEY_SECRET": "env-secret"}
    from_file = resolve(NOTHING, profile=None, config_file=str(config), environ={})
    assert (from_file.access_key_id, from_file.endpoint, from_file.region) == ("file-id", "http://file:1",
                                                                               "file-region")
    from_env = resolve(NOTHING, profile=None, config_file=str(config), environ=env)
    assert (from_env.access_key_id, from_env.access_key_secret, from_env.endpoint) == (
        "env-id", "env-secret", "http://file:1")
    from_options = resolve({"access_key_id": "opt-id", "endpoint": "http://opt:2"}, profile=None,
                           config_file=str(config), environ=env)
    assert (from_options.access_key_id, from_options.access_key_secret, from_options.endpoint) == (
        "opt-id", "env-secret", "http://opt:2")
    dev = resolve(NOTHING, profile="dev", config_file=str(config), environ={})
    assert (dev.access_key_id, dev.endpoint, dev.region) == ("dev-id", "http://127.0.0.1:9000", "cn-hangzhou")


def test_config_file_is_private_and_keeps_other_profiles(tmp_path: Path) -> None:
    config = tmp_path / "dir" / "config"
    write_profile(config, "a", {"endpoint": "http://a"})
    write_profile(config, "b", {"endpoint": "http://b"})
    write_profile(config, "a", {"region": "r"})
    text = config.read_text()
    assert "[profile a]" in text and "[profile b]" in text and "endpoint = http://a" in text and "region = r" in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no credentials: set OSS_ACCESS_KEY_SECRET"):
        resolve({"access_key_id": "x"}, profile=None, config_file=str(tmp_path / "none"), environ={})
    with pytest.raises(SettingsError, match="no profile 'ghost'"):
        resolve(NOTHING, profile="ghost", config_file=str(tmp_path / "none"), environ={})
    with pytest.raises(SettingsError, match="addressing style"):
        resolve({"access_key_id": "x", "access_key_secret": "y", "addressing_style": "sideways"}, profile=None,
                config_file=str(tmp_path / "none"), environ={})


def test_urls() -> None:
    assert parse_url("oss://b/some/key") == parse_url("OSS://b/some/key")
    assert str(parse_url("oss://b")) == "oss://b" and str(parse_url("oss://b/k")) == "oss://b/k"
    assert parse_url("oss://b/dir").child("f") == parse_url("oss://b/dir/f")
    for text, kwargs, message in (("s3://b/k", {}, "not an oss:// URL"), ("oss:///k", {}, "no bucket"),
                                  ("oss://b", {"need_key": True}, "names a bucket"),
                                  ("oss://b/k", {"bucket_only": True}, "names an object")):
        with pytest.raises(UrlError, match=message):
            parse_url(text, **kwargs)


def test_lifecycle_forms_round_trip() -> None:
    yaml_text = "Rule:\n  - ID: a\n    Prefix: logs/\n    Status: Enabled\n    Transition:\n" \
                "      - {Days: 30, StorageClass: IA}\n    Tag:\n      - {Key: k, Value: v}\n"
    body = to_xml(yaml_text, guess_format("rules.yml", yaml_text))
    assert b"<Transition><Days>30</Days><StorageClass>IA</StorageClass></Transition>" in body
    assert yaml.safe_load(from_xml(body, "yaml")) == yaml.safe_load(yaml_text)  # lists stay lists
    assert to_xml(from_xml(body, "json"), "json") == body
    assert guess_format("-", "<LifecycleConfiguration/>") == "xml" and guess_format("-", '{"Rule": []}') == "json"
    for text, form, message in (("<x/>", "xml", "root element"), ("<a", "xml", "not well-formed"),
                                ("{", "json", "not valid JSON"), ("- 1", "yaml", "expected a mapping")):
        with pytest.raises(FormError, match=message):
            to_xml(text, form)
