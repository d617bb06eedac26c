"""Domain events through a transactional outbox, their delivery, scheduled jobs, audit."""
