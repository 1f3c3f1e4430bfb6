"""The Objects page's pure pieces: the folder path above a listing, the download's file name,
and the content type a browser upload is stored with."""

from __future__ import annotations

from tessera.console.objects import Crumb, breadcrumb, content_disposition, folder_of
from tessera.console.uploads import content_type_of


def test_the_folder_path_opens_each_folder_above() -> None:
    assert breadcrumb("") == []
    assert breadcrumb("photos/2026/") == [Crumb("photos", "photos/"), Crumb("2026", "photos/2026/")]


def test_a_search_ends_the_path_with_what_was_typed() -> None:
    assert breadcrumb("photos/ca") == [Crumb("photos", "photos/"), Crumb("ca", "photos/ca")]


def test_empty_folder_names_are_kept() -> None:
    assert breadcrumb("a//") == [Crumb("a", "a/"), Crumb("", "a//")]


def test_the_folder_of_a_key() -> None:
    assert folder_of("a.txt") == ""
    assert folder_of("photos/2026/cat.jpg") == "photos/2026/"


def test_a_download_is_always_an_attachment_named_after_the_last_segment() -> None:
    assert content_disposition("docs/report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")


def test_a_download_name_with_quotes_unicode_and_line_breaks_cannot_break_the_header() -> None:
    header = content_disposition('dir/a"b;c\\d\r\nSet-Cookie: x=1 — 猫.txt')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="a_b_c_d__Set-Cookie: x=1 _ _.txt"; ')
    assert header.endswith("filename*=UTF-8''a%22b%3Bc%5Cd%0D%0ASet-Cookie%3A%20x%3D1%20%E2%80%94%20%E7%8C%AB.txt")


def test_a_key_ending_in_a_slash_downloads_under_its_folder_name() -> None:
    assert "filename*=UTF-8''folder" in content_disposition("a/folder/")


def test_the_browser_type_is_kept_when_a_header_can_carry_it() -> None:
    assert content_type_of("image/png") == "image/png"
    assert content_type_of(None) == "application/octet-stream"
    assert content_type_of("") == "application/octet-stream"
    assert content_type_of("text/plain\r\nX: y") == "application/octet-stream"
    assert content_type_of("a/" + "b" * 300) == "application/octet-stream"
