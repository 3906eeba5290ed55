"""Queueing Google Calendar work for an appointment's connected participants.

Filled in by the Google Calendar feature; until a participant connects, there is nothing to do.
"""


def queue_for(event: str, appointment, doctor, patient) -> None:
    """Queue calendar create/update/delete messages for connected participants (none yet)."""
    return None
