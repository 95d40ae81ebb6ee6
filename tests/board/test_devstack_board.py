"""`make dev` (scripts/devstack.py) starts the board beside the emulator it seeds."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from scripts.devstack import Stack, StackOptions
from testkit.emulator import free_port


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_devstack_serves_the_board_on_the_same_firestore(firestore_emulator, tmp_path):
    firestore_emulator.reset("demo-devboard")
    stack = Stack(StackOptions(workdir=tmp_path, firestore_host=firestore_emulator.host,
                               project="demo-devboard", worker=None, board_port=free_port()))
    try:
        stack.start_firestore()
        stack.seed_menu()
        stack.start_board()
        assert stack.board_url in stack.describe()
        with urllib.request.urlopen(stack.board_url + "/healthz", timeout=5) as resp:
            assert resp.read() == b"ok"
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(stack.board_url + "/menu",
                                         headers={"Accept": "text/html"})
        with pytest.raises(urllib.error.HTTPError) as signed_out:
            opener.open(request, timeout=5)
        assert signed_out.value.code == 303
        assert signed_out.value.headers["location"].startswith("/login")
    finally:
        stack.stop()
