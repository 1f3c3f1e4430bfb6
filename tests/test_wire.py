"""OSS wire formats: timestamps, request XML parsing (safely), error documents."""

from __future__ import annotations

import pytest

from tessera.api.oss import wire
from tessera.core.errors import EntityTooLarge, InvalidArgument, MalformedXML


def test_timestamps_have_exactly_000_and_two_digit_days() -> None:
    ms = 1704164645123  # 2024-01-02T03:04:05.123Z
    assert wire.iso_time(ms) == "2024-01-02T03:04:05.000Z"
    assert wire.http_time(ms) == "Tue, 02 Jan 2024 03:04:05 GMT"


def test_url_encoding_uses_percent_20() -> None:
    assert wire.url_encode("a b+c/文") == "a%20b%2Bc/%E6%96%87"


def test_control_character_references_survive_parsing() -> None:
    body = b"<Delete><Object><Key>a&#1;b&#x1f;c&#10;d</Key></Object></Delete>"
    doc = wire.parse(body, "Delete")
    assert wire.child_text(wire.children(doc, "Object")[0], "Key") == "a\x01b\x1fc\nd"


def test_declaration_and_namespace_are_accepted() -> None:
    doc = wire.parse(b'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="urn:x"><Quiet>true</Quiet></Delete>',
                     "Delete")
    assert wire.child_text(doc, "Quiet") == "true"


@pytest.mark.parametrize("body", [
    b"",
    b"<Delete>",
    b"<Other/>",
    b'<!DOCTYPE d [<!ENTITY e "x">]><Delete>&e;</Delete>',
    b'<!DOCTYPE d SYSTEM "http://example.invalid/d.dtd"><Delete/>',
])
def test_bad_xml_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        wire.parse(body, "Delete")


def test_oversized_xml_is_refused_before_parsing() -> None:
    with pytest.raises(EntityTooLarge):
        wire.parse(b"<Delete>" + b" " * wire.MAX_XML_BODY + b"</Delete>", "Delete")


def test_documents_have_no_namespace_and_lowercase_booleans() -> None:
    doc = wire.document(wire.element("R", wire.leaf("IsTruncated", False), wire.leaf("Empty", None)))
    assert doc.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b"<IsTruncated>false</IsTruncated>" in doc and b"xmlns" not in doc
    assert b"<Empty />" in doc or b"<Empty></Empty>" in doc


@pytest.mark.parametrize("body", [
    '<?xml version="1.0" encoding="UTF-16"?><Delete/>'.encode("utf-16"),
    b'<?xml version="1.0" encoding="UTF-16"?><Delete/>',
    b'<?xml version="1.0" encoding="UTF-32"?><Delete/>',
    b'<?xml version="1.0" encoding="UTF-7"?><Delete/>',
    b'<?xml version="1.0" encoding="GBK"?><Delete/>',
    b'<?xml version="1.0" encoding="no-such-encoding"?><Delete/>',
    b"<?xml version='1.0' standalone='yes' encoding='latin-1'?><Delete/>",
    "<Delete><Key>\u00e9</Key></Delete>".encode("latin-1"),
])
def test_request_xml_must_be_utf8(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        wire.parse(body, "Delete")


def test_utf8_declared_or_with_a_bom_is_fine() -> None:
    for body in (b"<?xml version='1.0' encoding = 'utf-8' ?><Delete/>", b"\xef\xbb\xbf<Delete/>"):
        assert wire.local_name(wire.parse(body, "Delete")) == "Delete"


@pytest.mark.parametrize("ref", [b"&#0;", b"&#x0;", b"&#" + b"1" * 5000 + b";", b"&#x110000;"])
def test_references_to_no_character_are_malformed(ref: bytes) -> None:
    with pytest.raises(MalformedXML):
        wire.parse(b"<Delete><Object><Key>" + ref + b"</Key></Object></Delete>", "Delete")


def test_header_values_must_be_utf8() -> None:
    wire.check_header_text({"x-oss-meta-a": "caf\u00e9", "Date": "x"})
    with pytest.raises(InvalidArgument):
        wire.check_header_text({"x-oss-meta-a": b"\xff\xfe".decode("utf-8", "surrogateescape")})
