"""Follow-ups: a post-walk report marked "needs follow-up" is queued until handled.

``opening`` turns each flagged report into a queue row and tells the coordinators and the
organisation's leads through the outbox; ``queue`` is what staff read (a lead only their own
organisation's); ``changes`` moves a follow-up between open, in progress and handled and keeps
a short note, masked like report text; ``reminders`` reminds the coordinators of one left open.
Nothing here identifies a young person: the queue shows the report's fixed answers and its
masked summary, never anything else it was told.
"""
