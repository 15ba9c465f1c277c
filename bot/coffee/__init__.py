"""Cup-of-coffee check-ins: pairing across organisations, follow-ups, course correction."""
