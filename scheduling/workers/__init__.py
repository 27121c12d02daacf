"""Infrastructure that runs the core: the dispatcher (worker), rate limits, the ticker."""
