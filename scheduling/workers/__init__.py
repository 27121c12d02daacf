"""What runs the core: the dispatcher and its parts, the rate limits, the ticker."""
