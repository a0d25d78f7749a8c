"""Routines and vendor instructions are Markdown: formatting shows, HTML and scripts do not."""

from __future__ import annotations

from helpdesk.web.markdown import render_markdown


def test_a_routine_reads_as_formatted_steps():
    html = render_markdown("**Fråga** vad som hänt.\n\n1. Starta om\n"
                           "2. Ring [supporten](https://it.example.se)")
    assert "<strong>Fråga</strong>" in html
    assert "<ol>" in html and "<li>Starta om</li>" in html
    assert '<a href="https://it.example.se"' in html and ">supporten</a>" in html


def test_typed_html_is_shown_as_text_and_script_links_are_not_made():
    html = render_markdown('<script>alert(1)</script> and [click](javascript:alert(1))')
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<a" not in html  # the javascript: link stays text, never a link


def test_nothing_written_shows_nothing():
    assert render_markdown("") == "" and render_markdown(None) == "" and render_markdown("  \n") == ""


def test_a_heading_is_a_bold_line_and_a_rule_stays_a_rule():
    html = render_markdown("# Steg 1\n\nStarta om.\n\n***\n\n## Steg *2*")
    # Not h1-h6: the page's headings give its outline. Not lost either.
    assert html == ("<p><strong>Steg 1</strong></p>\n<p>Starta om.</p>\n<hr>\n"
                    "<p><strong>Steg <em>2</em></strong></p>\n")
