"""Measurable shared objectives (SMART KPIs): storage access, status, reminders, Block Kit."""
