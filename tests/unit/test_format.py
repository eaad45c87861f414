import pytest

from spark_tui.core import format as fmt
@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "n/a"), (0, "0 B/s"), (999, "999 B/s"), (1_500, "1.5 kB/s"), (215_000, "215 kB/s"), (1.6e9, "1.6 GB/s")],
)
def test_rate(value, text):
    assert fmt.rate(value) == text


def test_na_is_never_zero():
    assert fmt.percent(None) == fmt.number(None, "W") == fmt.gib(None) == fmt.size(None) == fmt.duration(None) == "n/a"
    assert fmt.percent(0) == "0%"


def test_sizes_and_durations():
    assert fmt.size(3 * 1024**3) == "3.0 GiB" and fmt.size(512) == "512 B"
    assert fmt.duration(3 * 86400 + 4 * 3600) == "3d 4h" and fmt.duration(125) == "2m 05s" and fmt.duration(9) == "9s"
    assert fmt.span(300) == "5 min" and fmt.span(90) == "90 s"
