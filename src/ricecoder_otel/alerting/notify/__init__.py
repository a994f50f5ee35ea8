"""Notifications: routing, grouping, silences, inhibition, channels and the durable outbox."""
