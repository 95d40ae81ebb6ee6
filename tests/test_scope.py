"""One restaurant's corner of the database (store/scope.py): whatever ids or phone numbers a
caller, a staff member or a crafted request gives the store, the paths it builds stay inside
that restaurant. The real Firestore client builds the references (no server is needed to
build a path, and none is reached)."""

from __future__ import annotations

import pytest
from google.cloud import firestore

from models import RESTAURANT_COLLECTIONS
from store.scope import RestaurantScope, restaurant_root, scoped


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> firestore.AsyncClient:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:9")  # never dialled: paths only
    return firestore.AsyncClient(project="scope-test")


def test_every_document_and_collection_is_under_the_restaurant(client):
    north = RestaurantScope(client, "north")
    assert north.document("orders/call-1-order-1").path == "restaurants/north/orders/call-1-order-1"
    assert north.document("/orders/x/").path == "restaurants/north/orders/x"
    assert north.document("orders/X").path == "restaurants/north/orders/X"  # ids keep their case
    assert north.restaurant_id == "north"
    assert north.collection("reservations").id == "reservations"
    assert north.collection("reservations")._path == ("restaurants", "north", "reservations")
    assert north.directory_entry().path == "restaurants/north"
    assert restaurant_root("north") == "restaurants/north"
    for name in RESTAURANT_COLLECTIONS:
        assert north.collection(name)._path[:2] == ("restaurants", "north")


@pytest.mark.parametrize("path", [
    "", "/", "orders//x", "orders/./x", "orders/../../south/orders/x", "../south/orders/x",
    "./orders/x", "restaurants/south/orders/x", "staff", "orders/x/..",
])
def test_a_path_that_would_leave_the_restaurant_is_refused(client, path):
    north = RestaurantScope(client, "north")
    # the error says what was wrong with the path (an operator reads it in the log)
    said = "is not a path inside a restaurant|is not one of a restaurant's collections"
    with pytest.raises(ValueError, match=said):
        north.document(path)
    with pytest.raises(ValueError, match=said):
        north.collection(path)
    if path in ("staff", "restaurants/south/orders/x"):
        with pytest.raises(ValueError, match=r"'staff_users', 'staff_sessions'"):
            north.document(path)  # and which collections a restaurant has


@pytest.mark.parametrize("bad", ["", "North", "../south", "a/b", "-north", "north-", "a--b",
                                 "café"])
def test_a_restaurant_id_that_is_not_a_slug_is_refused(client, bad):
    with pytest.raises(ValueError):
        RestaurantScope(client, bad)


def test_the_clients_unscoped_entry_points_are_not_offered(client):
    north = RestaurantScope(client, "north")
    for name in ("collection_group", "collections", "recursive_delete", "bulk_writer"):
        with pytest.raises(AttributeError, match="only paths inside restaurants/north"):
            getattr(north, name)
    assert north.batch().__class__ is client.batch().__class__  # a batch names no path
    assert north.write_option is client.write_option


def test_a_scope_is_kept_and_a_client_gets_the_default_restaurant(client):
    north = RestaurantScope(client, "north")
    assert scoped(north, "south") is north
    assert scoped(client).prefix == "restaurants/main"
    assert scoped(client, "south").document("orders/x").path == "restaurants/south/orders/x"
