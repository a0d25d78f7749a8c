"""The Swedish interface is complete, keeps its placeholders and is compiled.

The messages are extracted from the code and the templates exactly as
``scripts/translations.sh extract`` does (babel.cfg and the same keywords), so
new English text without a Swedish translation fails here, by name. Fix with::

    scripts/translations.sh extract    # then translate in sv/LC_MESSAGES/messages.po
    scripts/translations.sh compile
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "helpdesk" / "translations"
LOCALES = ("sv", "en")

# Python %-format specifiers: %(name)s, %s, %d, %%, ... The Jinja templates use
# Flask-Babel's new-style gettext, which %-formats every message, so a stray %
# in a translation breaks the page just as a lost %(name)s does.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]"
)

MessageKey = tuple[str, str | None]  # (msgid, msgctxt)


def _keywords() -> dict[str, object]:
    """Babel's default keywords plus the ones scripts/translations.sh passes with -k."""
    script = (ROOT / "scripts" / "translations.sh").read_text()
    declared = re.search(r"^keywords=\(([^)]*)\)", script, re.MULTILINE)
    assert declared, "scripts/translations.sh no longer declares keywords=(-k ...)"
    extra = re.findall(r"-k\s+(\S+)", declared.group(1))
    assert "N_" in extra
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(extra))
    return keywords


def _not_hidden(path: str) -> bool:
    """As scripts/translations.sh's --ignore-dirs '.*': templates/_macros/ is read too
    (Babel's default skips every directory whose name begins with _ as well)."""
    return not Path(path).name.startswith(".")


@cache
def extracted() -> dict[MessageKey, list[str]]:
    """Every message in the code and templates now, with where it occurs."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    found: dict[MessageKey, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=_keywords(),
        directory_filter=_not_hidden,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=locale)


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def test_extraction_finds_code_and_template_messages() -> None:
    messages = extracted()
    # One message each from N_() in pure code, gettext() in a view and _() in a template.
    assert ("No such ticket.", None) in messages
    assert ("Wrong e-mail address or password.", None) in messages
    assert ("Log in", None) in messages
    assert len(messages) > 100
    assert not any(".venv" in where for places in messages.values() for where in places)


def test_every_message_has_a_swedish_translation() -> None:
    sv = catalog("sv")
    assert not sv.fuzzy, "the header of sv/messages.po is fuzzy: pybabel compile would skip it"
    missing = []
    for (msgid, context), places in sorted(extracted().items(), key=lambda item: item[0][0]):
        entry = sv.get(msgid, context)
        strings = _strings(entry.string) if entry else []
        if entry is None or entry.fuzzy or not strings or not all(s.strip() for s in strings):
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "untranslated"
            missing.append(f"  {msgid!r} ({state}; {', '.join(places[:2])})")
    assert not missing, (
        f"{len(missing)} message(s) have no Swedish translation. Run "
        "scripts/translations.sh extract, translate them in "
        "helpdesk/translations/sv/LC_MESSAGES/messages.po, then "
        "scripts/translations.sh compile:\n" + "\n".join(missing)
    )


def test_english_catalogue_knows_every_message() -> None:
    en = catalog("en")
    absent = sorted(msgid for msgid, context in extracted() if en.get(msgid, context) is None)
    assert not absent, f"run scripts/translations.sh extract; not in en/messages.po: {absent}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    wrong = []
    for message in catalog(locale):
        if not message.id:
            continue
        source = placeholders(_strings(message.id)[0])
        for text in _strings(message.string):
            if text and placeholders(text) != source:
                wrong.append(f"  {message.id!r} -> {text!r}")
    assert not wrong, "translations that change the %-placeholders:\n" + "\n".join(wrong)


def _translations(mo: BytesIO) -> dict[MessageKey, object]:
    mo.seek(0)
    compiled = read_mo(mo)
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context): m.string
            for m in compiled if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_up_to_date(locale: str) -> None:
    fresh = BytesIO()
    write_mo(fresh, catalog(locale))
    mo_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert mo_path.exists(), f"{mo_path} is missing: run scripts/translations.sh compile"
    with mo_path.open("rb") as mo:
        shipped = _translations(BytesIO(mo.read()))
    assert shipped == _translations(fresh), (
        f"{mo_path.relative_to(ROOT)} is older than its .po: run scripts/translations.sh compile"
    )


@pytest.mark.parametrize(
    ("language", "log_in"), [("sv", "Logga in"), ("en", "Log in")]
)
def test_login_page_is_in_the_browsers_language(client, language: str, log_in: str) -> None:
    response = client.get("/login", headers={"Accept-Language": language})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in html
    assert f"<h1>{log_in}</h1>" in html
    assert f"<title>{log_in} – " in html


def test_swedish_is_the_default(client) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<h1>Logga in</h1>" in html
    assert "Log in" not in html


def test_error_page_in_swedish(client) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "sv"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Hittades inte</h1>" in html
    assert "Gå till startsidan" in html


def test_users_own_language_wins_over_the_browser(client, factory) -> None:
    user = factory.user(locale="sv")
    login(client, user)
    html = client.get("/portal/tickets", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<h1>Mina ärenden</h1>" in html
    assert "Tjänstekatalog" in html
    assert "Logga ut" in html
