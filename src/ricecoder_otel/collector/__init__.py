"""Our OpenTelemetry Collector distribution: build it, find it, validate the shipped configs."""
