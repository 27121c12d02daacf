"""The kinds of outbox message: what the renderer says and what the dispatcher re-checks."""

from __future__ import annotations


class Kind:
    REMINDER = "reminder"
    CALL_FOR_WALKERS = "call_for_walkers"
    STAFFING_NOTICE = "staffing_notice"
    FINAL_CHECK = "final_check"
    CHECK_IN_PROMPT = "check_in_prompt"
    REPORT_PROMPT = "report_prompt"
    SAFETY_ALERT = "safety_alert"
    SAFETY_ACKNOWLEDGED = "safety_acknowledged"
    REPLACE_PROMPT = "replace_prompt"
    REPLACEMENT_OFFER = "replacement_offer"
    BROADCAST = "broadcast"
    PROMOTED = "promoted"
    OFFER_EXPIRED = "offer_expired"
    SHIFT_CANCELLED = "shift_cancelled"
    SHIFT_CHANGED = "shift_changed"  # moved, or its area or meeting point changed
    SMS_UNREACHABLE = "sms_unreachable"  # to the coordinators: a walker's number fails
    INACTIVITY_NOTICE = "inactivity_notice"  # before an inactive person is erased
    APPROVAL_REQUEST = "approval_request"  # to the leads: a new walker waits for approval
    APPROVED = "approved"  # to the walker: approved (and signed up for the shift they chose)
    REJECTED = "rejected"  # to the walker: turned down (then erased)
    ATTENDANCE_CHECK = "attendance_check"  # to the lead after a shift: who came?
    RECORD_CHECK_LAPSING = "record_check_lapsing"  # to walker and lead, a month before
    NIGHTS_PUBLISHED = "nights_published"  # to every lead: open nights to take
    NIGHT_ALLOCATED = "night_allocated"  # to every lead: a night went to an organisation
    NIGHT_HANDED_ON = "night_handed_on"  # to every lead: a night is free again (or taken over)
    NIGHT_OFFERED = "night_offered"  # to a reserve's leads: take the night over?
    ALARM = "alarm"  # a walker raised the alarm: to the group, the leads, the coordinators
    ALARM_LOCATION = "alarm_location"  # the walker shared where they are
    ALARM_ACKNOWLEDGED = "alarm_acknowledged"
    ALARM_CANCELLED = "alarm_cancelled"  # a false alarm, called off
    GROUP_INTRO = "group_intro"  # before the walk: who walks with whom, where, what to bring
    NUMBER_SHARED = "number_shared"  # a walker's number, to their group for that night
    RUNNING_LATE = "running_late"  # a walker will be late: to the group lead and the group
    FOLLOW_UP_OPENED = "follow_up_opened"  # to the coordinators and leads: a report needs it
    FOLLOW_UP_REMINDER = "follow_up_reminder"  # to the coordinators: still open after days
    MORNING_PICTURE = "morning_picture"  # to partners and coordinators after a night with walks


STREET_KINDS = frozenset({Kind.GROUP_INTRO, Kind.NUMBER_SHARED, Kind.RUNNING_LATE})
ALARM_KINDS = frozenset(
    {Kind.ALARM, Kind.ALARM_LOCATION, Kind.ALARM_ACKNOWLEDGED, Kind.ALARM_CANCELLED}
)


class Priority:
    """The outbox ``priority``: higher is claimed first. An alarm goes ahead of anything queued
    and has an express lane of its own (``scheduling/workers/express.py``)."""

    NORMAL = 0
    ALARM = 10
