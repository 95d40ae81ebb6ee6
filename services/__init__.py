"""The separate processes beside the worker: the staff board (`python -m services.board`), the
outbound dialer, the call watch (re-dispatch) and the call-log reaper.
"""
