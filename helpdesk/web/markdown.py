"""Markdown written by administrators (a service's routines, a vendor's instructions), shown
as HTML.

CommonMark without raw HTML: what an administrator types as a tag is shown as text, and
links with scripts in them are not made; the result also goes through the mail sanitiser,
so nothing but formatting and plain links can reach the page.
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from helpdesk.mail.sanitise import sanitise_html

_RENDERER = MarkdownIt("commonmark", {"html": False})


# A heading in a routine is a bold line: the page's own headings give its outline, which a
# routine's "# Step 1" would break (a second h1 inside a section), and the sanitiser keeps
# no h1-h6 (it would leave the heading's words loose in front of the next paragraph).
def _heading_open(*_args: Any) -> str:
    return "<p><strong>"


def _heading_close(*_args: Any) -> str:
    return "</strong></p>\n"


_RENDERER.add_render_rule("heading_open", _heading_open)
_RENDERER.add_render_rule("heading_close", _heading_close)


def render_markdown(text: str | None) -> Markup:
    if not text or not text.strip():
        return Markup("")
    return Markup(sanitise_html(_RENDERER.render(text)))
