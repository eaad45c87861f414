"""What the engine reports but a container's creator chose (labels, inspect data), made safe to show.

No Docker SDK here: the inspect screen cleans what it shows without importing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spark_tui.core.masking import mask_mapping
from spark_tui.core.untrusted import LINE_MAX, clean


def clean_labels(labels: Mapping[str, Any]) -> dict[str, str]:
    """Labels are whatever an image or a compose file set: masked, then safe to show."""
    return {clean(str(key)): clean(str(value), max_len=LINE_MAX) for key, value in mask_mapping(labels).items()}


def clean_tree(data: Any) -> Any:
    """Inspect data with every string (keys too) safe to show; the raw stays for --json.
    json.dumps alone is not enough: Rich's JSON writes non-ASCII as it is, C1 and bidi included."""
    if isinstance(data, str):
        return clean(data, max_len=LINE_MAX)
    if isinstance(data, Mapping):
        return {clean_tree(key) if isinstance(key, str) else key: clean_tree(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [clean_tree(item) for item in data]
    return data
