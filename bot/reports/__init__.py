"""Say/do figures, weekly summaries, quarterly reviews and lessons, and exports."""
