"""Supervisor reports: figures aggregated in SQL (``queries``) and written as tables or files (``formats``)."""

from window_terminal.core.reports.queries import (
    Report,
    Table,
    clerk_report,
    overdue_report,
    period_report,
)

__all__ = ["Report", "Table", "clerk_report", "overdue_report", "period_report"]
