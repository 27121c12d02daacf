"""Nights the kommun offers to organisations: published by the coordinator, claimed by leads
(first come, or allocated by the coordinator), held as a real shift, handed on to a reserve."""
