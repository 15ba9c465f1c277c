"""Partnerships' people: members, organisations, admins and Slack profiles."""
