"""Costs against a baseline: service areas, baselines, projects with budgets, spend."""
