"""The restaurant's rules, pure: the menu and what a caller's words mean, prices and totals,
bookings and seating, dates and times, phone numbers, the fixed lines, ids, masking.

No LiveKit, no Firestore, no I/O: every other layer (the store's transactions included) asks
these same rules, so a total, a seat or a date is decided in one place.
"""
