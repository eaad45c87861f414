"""Text from Docker and compose (names, statuses, compose's messages) put inside Textual markup.

`rich.markup.escape` only escapes what looks like a tag, which Textual's parser reads
differently: Docker's "capabilities: [[gpu]]" came out as "[\\[gpu]]". Escaping every opening
bracket reads back exactly in Textual.
"""

from __future__ import annotations


def escape(text: str) -> str:
    return text.replace("[", "\\[")
