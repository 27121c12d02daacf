"""What is said to people: the outbox, what is due, broadcasts, delivery status, quiet hours."""
