"""Rules every feature applies: who may see a partnership's data, the charter's settings
(cadences, working hours, public holidays) and working-hours arithmetic."""
