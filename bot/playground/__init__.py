"""The playground: Saydo in a browser, with a local stand-in for Slack and a movable clock."""
