"""Links handed to people: calendar feeds and one-time dashboard logins."""
