"""The morning picture (lägesbild): after each night with walks, at ``[evaluation]
morning_summary_at`` local time, one message to every partner and every coordinator with the
night's figures and no personal data.

``night`` says which night is due, ``facts`` reads it from the store (the walk tallies of
``evaluation/walk_tally.py`` and the time bands of ``evaluation/band_seconds.py``),
``sections`` turns it into lines (a list of small functions: a new section is one more entry
in ``SECTIONS``), ``picture`` is the tick's step that queues it once per night. The lines are
catalogue keys with values, so each person reads it in their own language, and by SMS in a
short GSM-7 form (``bot/morning_texts.py``).
"""
