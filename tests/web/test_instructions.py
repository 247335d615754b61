"""Task instructions: placeholder values cannot form unsafe link or image targets; GFM tables
render with the GOV.UK table classes."""
from __future__ import annotations

import re

import pytest

from web.ui.instructions import render_instructions

UNSAFE = ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
          "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd"]


def _targets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*)"', html)


@pytest.mark.parametrize("value", UNSAFE)
def test_a_value_in_a_link_target_cannot_make_an_unsafe_link(value):
    html = str(render_instructions("See [the record]({{ url }}).", {"url": value}))
    assert _targets(html) == [] and "<a" not in html
    assert '<p class="govuk-body">See the record.</p>' in html  # the text stays, as text


@pytest.mark.parametrize("value", UNSAFE)
def test_a_value_in_an_image_target_cannot_make_an_unsafe_image(value):
    html = str(render_instructions("![map of {{ place }}]({{ url }})", {"url": value, "place": "<b>x</b>"}))
    assert _targets(html) == [] and "<img" not in html
    assert "map of &lt;b&gt;x&lt;/b&gt;" in html


def test_a_value_in_a_reference_definition_is_checked_too():
    html = str(render_instructions("[record][r]\n\n[r]: {{ url }}", {"url": "javascript:alert(1)"}))
    assert _targets(html) == [] and "record" in html


def test_a_normal_https_value_makes_a_normal_link():
    html = str(render_instructions("[the record]({{ url }} \"{{ title }}\")",
                                   {"url": "https://example.org/cases/KNT 1?tab=a&b", "title": '"x" <y>'}))
    assert ('<a href="https://example.org/cases/KNT%201?tab=a&amp;b" title="&quot;x&quot; &lt;y&gt;" '
            'class="govuk-link" rel="noreferrer noopener">the record</a>') in html


def test_a_value_is_text_not_markdown():
    html = str(render_instructions("Officer: {{ who }}", {"who": "[x](javascript:alert(1)) **bold** <i>"}))
    assert "<a" not in html and "<strong>" not in html
    assert "[x](javascript:alert(1)) **bold** &lt;i&gt;" in html


def test_the_source_cannot_spell_the_placeholder_marker():
    html = str(render_instructions("PLACEHOLDERQ0Q {{ a }}", {"a": "value"}))
    assert "PLACEHOLDERQ0Q value" in html


def test_gfm_tables_render_with_govuk_table_classes():
    source = "| Field | Value |\n|:--|--:|\n| Case | {{ ref }} |\n| Level | {{ level }} |\n"
    html = str(render_instructions(source, {"ref": "<KNT-1>", "level": 2}))
    assert '<table class="govuk-table">' in html
    assert '<thead class="govuk-table__head">' in html and '<tbody class="govuk-table__body">' in html
    assert html.count('<tr class="govuk-table__row">') == 3
    assert '<th class="govuk-table__header" scope="col">Field</th>' in html
    assert '<td class="govuk-table__cell">Case</td>' in html
    # right alignment as GOV.UK's numeric modifier: inline styles are blocked by the CSP
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">&lt;KNT-1&gt;</td>' in html
    assert "style=" not in html


def test_other_blocks_keep_their_govuk_classes():
    html = str(render_instructions("# A\n\n## B\n\n> note\n\n- x\n\n3. y\n", {}))
    assert '<h2 class="govuk-heading-m">A</h2>' in html and '<h3 class="govuk-heading-s">B</h3>' in html
    assert '<div class="govuk-inset-text">\n<p class="govuk-body">note</p>\n</div>' in html
    assert '<ul class="govuk-list govuk-list--bullet">' in html
    assert '<ol start="3" class="govuk-list govuk-list--number">' in html
