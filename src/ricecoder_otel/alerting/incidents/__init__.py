"""Incidents opened by notified alert groups: escalation, acknowledgement, timeline, postmortems."""
