"""Lifecycle configurations as OSS's XML, or as the same structure in YAML or JSON.

The friendly forms use OSS's element names, so the OSS documentation describes them too::

    Rule:
      - ID: abort-stale-uploads
        Prefix: logs/
        Status: Enabled
        AbortMultipartUpload: {Days: 7}
        Transition:
          - {Days: 30, StorageClass: IA}

Elements that may repeat (Rule, Transition, Tag, Not, NoncurrentVersionTransition) are lists
in the friendly forms, even when there is one; the others are mappings or values.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import yaml
from defusedxml import ElementTree

ROOT = "LifecycleConfiguration"
REPEATED = frozenset({"Rule", "Transition", "Tag", "Not", "NoncurrentVersionTransition"})
FORMATS = ("xml", "yaml", "json")


class FormError(ValueError):
    pass


def guess_format(name: str, text: str) -> str:
    """By file extension, else by the first character: '<' XML, '{' JSON, otherwise YAML."""
    lowered = name.lower()
    for extension, form in ((".xml", "xml"), (".json", "json"), (".yaml", "yaml"), (".yml", "yaml")):
        if lowered.endswith(extension):
            return form
    start = text.lstrip()[:1]
    return "xml" if start == "<" else "json" if start == "{" else "yaml"


def to_xml(text: str, form: str) -> bytes:
    """The configuration as OSS's XML, whatever form it came in (XML passes through, checked)."""
    if form == "xml":
        try:
            root = ElementTree.fromstring(text.encode())
        except ElementTree.ParseError as error:
            raise FormError(f"not well-formed XML: {error}") from None
        if root.tag != ROOT:
            raise FormError(f"the root element must be {ROOT}, not {root.tag}")
        return text.encode()
    try:
        document = json.loads(text) if form == "json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise FormError(f"not valid {form.upper()}: {error}") from None
    if isinstance(document, dict) and set(document) == {ROOT}:
        document = document[ROOT]
    if not isinstance(document, dict) or "Rule" not in document:
        raise FormError("expected a mapping with a 'Rule' list (see 'tessera lifecycle --help')")
    root = Element(ROOT)
    _fill(root, document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


def from_xml(body: bytes, form: str) -> str:
    """A configuration from the server, in the form asked for."""
    if form == "xml":
        return body.decode()
    document = _read(ElementTree.fromstring(body))
    if form == "json":
        return json.dumps(document, indent=2, ensure_ascii=False)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _fill(parent: Element, mapping: dict[str, Any]) -> None:
    for name, value in mapping.items():
        for item in value if isinstance(value, list) else [value]:
            child = SubElement(parent, str(name))
            if isinstance(item, dict):
                _fill(child, item)
            elif isinstance(item, bool):
                child.text = "true" if item else "false"
            elif item is not None:
                child.text = str(item)


def _read(element: Element) -> Any:
    children = list(element)
    if not children:
        text = (element.text or "").strip()
        return int(text) if text.isdigit() else text
    document: dict[str, Any] = {}
    for child in children:
        value = _read(child)
        if child.tag in REPEATED:
            document.setdefault(child.tag, []).append(value)
        else:
            document[child.tag] = value
    return document
