"""Managers' SLA reports: compliance per service, priority, tier, group and vendor, and the
monthly service-level report with its service credits. Figures are SQL aggregates."""
