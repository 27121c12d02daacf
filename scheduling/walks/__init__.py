"""Shifts and series, sign-ups and the waitlist, reports, staffing and safety."""
