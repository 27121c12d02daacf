"""The coordinator's evaluation: walk facts, statistics, payment basis, exports, overview.

It reads the core (scheduling/, models/) and never writes walks."""
