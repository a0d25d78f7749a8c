"""Markdown written by administrators (a service's routines, a vendor's instructions), shown
as HTML.

CommonMark without raw HTML: what an administrator types as a tag is shown as text, and
links with scripts in them are not made; the result also goes through the mail sanitiser,
so nothing but formatting and plain links can reach the page.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

from helpdesk.mail.sanitise import sanitise_html

_RENDERER = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str | None) -> Markup:
    if not text or not text.strip():
        return Markup("")
    return Markup(sanitise_html(_RENDERER.render(text)))
