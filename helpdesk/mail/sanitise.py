"""HTML from mail made safe to show, and turned into plain text.

Mail HTML is hostile by default: scripts, event handlers, forms, and remote images that
tell the sender when (and from where) an agent opened the ticket. We keep formatting,
links and inline (``cid:``) images only.
"""

from __future__ import annotations

import html as html_module
import re
import string
from html import entities as html_entities

import nh3

_TABLE_TAGS = {"table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "th", "td"}
_TAGS = {
    "p", "br", "div", "span", "b", "strong", "i", "em", "u", "ul", "ol", "li",
    "blockquote", "pre", "code", "a", "img", "hr",
} | _TABLE_TAGS
_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Tags whose text is not part of the message (nh3 would otherwise keep it as text).
_DROP_WITH_CONTENT = {"script", "style", "title", "textarea", "select", "iframe", "object", "noscript"}
_LINK_SCHEMES = ("http:", "https:", "mailto:")

# The HTML parser inside nh3 takes time in the square of how deeply block elements nest
# (200,000 unclosed <div>s take minutes) and of how many "&" a text holds (400,000 took
# 11 s), so deep blocks become line breaks, and every "&" that means "&" (bare or as a
# reference) travels through nh3 as a private-use character and comes out as "&amp;".
MAX_NESTING = 500
_AMPERSAND = "\ue000"
_REFERENCE = re.compile(r"&(#[xX]?)?(\w+;)?")
_BLOCK_TAG = re.compile(
    r"<(/?)(?:div|blockquote|ul|ol|dl|section|article|aside|header|footer|nav|main|menu|dir|center"
    r"|address|figure|figcaption|details|summary|fieldset|form|pre|h[1-6])\b[^<>]*>",
    re.IGNORECASE,
)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Links only to the web and to mail addresses; images only from the mail itself."""
    lowered = value.strip().lower()
    if tag == "a" and attribute == "href":
        return value if lowered.startswith(_LINK_SCHEMES) else None
    if tag == "img" and attribute == "src":
        return value if lowered.startswith("cid:") else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto", "cid"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)

# For text conversion: keep just the tags that mark line breaks, without attributes, so
# that the patterns below see nh3's own tidy serialisation and never the sender's markup.
_BLOCK_TAGS = {"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote", "pre",
               "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
_TEXT_CLEANER = nh3.Cleaner(
    tags=_BLOCK_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes={},
    link_rel=None,
    strip_comments=True,
)
_PRE = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>")
_LIST_ITEM = re.compile(r"<li>")
_CELL_END = re.compile(r"</t[dh]>")
# Block edges become markers first, so that nested blocks (Gmail's <div><div>) and a block
# that closes where the next opens make one line break, not several.
_LINE, _PARAGRAPH = "\x01", "\x02"
_LINE_EDGE = re.compile(r"</?(?:div|li|tr|hr)>")
_PARAGRAPH_EDGE = re.compile(r"</?(?:p|ul|ol|table|blockquote|pre|h[1-6])>")
_EDGES = re.compile(r"[ \x01\x02]*[\x01\x02][ \x01\x02]*")
_PRE_EDGES = re.compile(r"[\x01\x02]+")
_ANY_TAG = re.compile(r"<[^>]*>")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _prepared(html: str) -> str:
    depth = deepest = 0
    for tag in _BLOCK_TAG.finditer(html):
        depth = max(depth - 1, 0) if tag.group(1) else depth + 1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        html = _BLOCK_TAG.sub("<br>", html)
    return _REFERENCE.sub(_ampersand_or_reference, html.replace(_AMPERSAND, "\ufffd"))


def _ampersand_or_reference(match: re.Match[str]) -> str:
    """A character reference for anything but "&" stays; every other "&" becomes the stand-in."""
    numeric, name = match.groups()
    if name is None:  # a bare "&"
        return _AMPERSAND + (numeric or "")
    if numeric is None:
        if name not in html_entities.html5:  # "&nosuch;" is text
            return _AMPERSAND + name
        return _AMPERSAND if name == "amp;" else match.group(0)
    digits = name[:-1]
    hexadecimal = numeric in ("#x", "#X")
    if not all(char in (string.hexdigits if hexadecimal else string.digits) for char in digits):
        return _AMPERSAND + numeric + name  # "&#xZZ;" is text
    return _AMPERSAND if digits.lstrip("0") == ("26" if hexadecimal else "38") else match.group(0)


def _clean(cleaner: nh3.Cleaner, html: str) -> str:
    return cleaner.clean(_prepared(html)).replace(_AMPERSAND, "&amp;")


def sanitise_html(html: str) -> str:
    """The mail's HTML with only harmless formatting, web/mail links and cid: images left."""
    return _clean(_CLEANER, html)


def html_to_text(html: str) -> str:
    """Readable plain text from mail HTML: block ends become line breaks, entities decoded."""
    pieces = []
    tidy = _clean(_TEXT_CLEANER, html).replace(_LINE, "").replace(_PARAGRAPH, "")
    for piece in _PRE.split(tidy):
        preformatted = piece.startswith("<pre>")
        if not preformatted:
            # Outside <pre>, line breaks in the source are only spaces to a browser.
            piece = re.sub(r"\s+", " ", piece)
        piece = _BREAK.sub("\n", piece)
        piece = _LIST_ITEM.sub(_LINE + "- ", piece)
        piece = _CELL_END.sub(" ", piece)
        piece = _PARAGRAPH_EDGE.sub(_PARAGRAPH, _LINE_EDGE.sub(_LINE, piece))
        edges = _PRE_EDGES if preformatted else _EDGES
        pieces.append(edges.sub(lambda edge: "\n\n" if _PARAGRAPH in edge.group(0) else "\n", piece))
    text = "".join(pieces)
    text = html_module.unescape(_ANY_TAG.sub("", text)).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
