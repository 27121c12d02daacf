"""The core's shared vocabulary: the context, the clock, errors, settings, local time, text."""
