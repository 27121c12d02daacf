"""``[followups]``: the follow-up queue of reports marked "needs follow-up"."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from scheduling.common.config.base import Section
from scheduling.common.config.values import Duration


class FollowupSettings(Section):
    # The kommun's own guidance, shown with every follow-up (e.g. when to make an
    # orosanmälan to social services). Plain text; unset: none is shown.
    guidance: str | None = Field(default=None, max_length=1000)
    # an open follow-up reminds the coordinators once every this long
    remind_every: Duration = timedelta(days=3)
