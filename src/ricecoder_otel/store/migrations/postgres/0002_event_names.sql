-- Events are log records with an event name; `query logs --event NAME` reads them by name and time.
CREATE INDEX logs_event_time ON logs (event_name, time_ns);
