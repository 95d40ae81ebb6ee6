"""The phone line itself, through LiveKit: SIP outbound calls, the staff phone (warm transfer),
the outbound call's job and re-dispatch of calls whose agent died.
"""
