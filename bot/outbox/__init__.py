"""The outbox: every outgoing scheduled Slack message is a row planned once and sent once."""
