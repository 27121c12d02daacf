"""What is said to people: the outbox (the queue), what is due now (derivation), broadcasts."""
