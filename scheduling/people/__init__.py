"""People, organisations and areas; roles, access and the audit; privacy and erasure."""
