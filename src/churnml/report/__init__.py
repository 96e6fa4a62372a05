"""Reports for people: the marketing summary page (pure builders, no I/O)."""

from churnml.report.sections import SECTIONS, Section, SummaryContext
from churnml.report.summary import build_summary, context_from

__all__ = ["SECTIONS", "Section", "SummaryContext", "build_summary", "context_from"]
