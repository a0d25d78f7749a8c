"""Which files a ticket takes, judged by the name, and the name a file is kept under."""

from __future__ import annotations

import pytest

from helpdesk.tickets.attachments import safe_filename
from helpdesk.tickets.upload_policy import FileRefused, check_size, stored_type


@pytest.mark.parametrize(("name", "kept_as"), [
    ("Skärmbild.PNG", "image/png"),
    ("rapport.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("install.log", "text/plain"),
    ("syslog", "text/plain"),          # no ending: plain text, nothing a desktop runs
    (".bashrc", "text/plain"),         # a leading dot is part of the name, not an ending
    ("arkiv.tar.gz", "application/gzip"),
])
def test_a_file_with_an_ending_we_take_is_kept_as_its_type(name, kept_as):
    assert stored_type(name) == kept_as


@pytest.mark.parametrize("name", [
    "setup.exe", "Faktura.pdf.exe", "makro.xlsm", "sida.html", "bild.svg", "tillägg.xll",
    "genväg.url", "paket.msix", "disk.vhdx", "skript.ps1", "konfig.ini",
])
def test_any_other_ending_is_refused_as_a_kind_not_taken(name):
    with pytest.raises(FileRefused) as refused:
        stored_type(name)
    assert refused.value.status == 415
    assert refused.value.params["ending"] == name.rpartition(".")[2].lower()


def test_a_file_over_the_limit_is_refused_as_too_large():
    check_size("bild.png", 1024 * 1024, 1024 * 1024)
    with pytest.raises(FileRefused) as refused:
        check_size("bild.png", 1024 * 1024 + 1, 1024 * 1024)
    assert refused.value.status == 413
    assert str(refused.value) == "The file bild.png is larger than 1 MB."


def test_a_long_name_is_shortened_before_its_ending():
    kept = safe_filename("Årsredovisning " * 20 + ".pdf")
    assert len(kept) == 200 and kept.endswith(".pdf")
    assert safe_filename("x" * 300) == "x" * 200
