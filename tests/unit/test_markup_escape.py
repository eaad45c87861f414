"""ui.markup.escape: external text inside a Textual markup template reads back exactly, and the
template's own tags stay tags (a trailing backslash in the text must not swallow the next tag)."""

from __future__ import annotations

import pytest
from textual.content import Content

from spark_tui.ui.markup import escape

CASES = ["C:\\", "x\\\\", "[/]PWNED", "[@click=app.quit]PWNED[/]", "[$accent]PWNED $secondary[/]",
         "capabilities: [[gpu]]", "a\\[b]", "plain"]


@pytest.mark.parametrize("text", CASES)
def test_text_reads_back_and_the_template_tag_still_closes(text: str) -> None:
    content = Content.from_markup(f"[b]{escape(text)}[/b] after")
    assert content.plain.replace("\u200b", "") == f"{text} after"
    bold = [span for span in content.spans if str(span.style) == "b"]
    assert bold and bold[0].end <= len(content.plain) - len(" after")  # the bold ended where the text did
