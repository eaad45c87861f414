"""Facts the pollers report to the app, in the past tense."""

from __future__ import annotations

from textual.message import Message

from spark_tui.models.machine import GpuReport, SystemSample


class GpuSampled(Message):
    def __init__(self, report: GpuReport) -> None:
        super().__init__()
        self.report = report


class SystemSampled(Message):
    def __init__(self, sample: SystemSample) -> None:
        super().__init__()
        self.sample = sample


class SourceFailed(Message):
    """A poll raised; the poller retries with backoff."""

    def __init__(self, source: str, error: BaseException) -> None:
        super().__init__()
        self.source = source
        self.error = error
