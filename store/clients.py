"""Credentials and Firestore clients for the configured target (a project or the emulator)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import firebase_admin
from firebase_admin import credentials as fb_credentials
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import firestore

from config import ConfigError, FirestoreSettings, firestore_target_error

log = logging.getLogger(__name__)


def _firebase_app(path: Path) -> firebase_admin.App:
    name = f"restaurant:{path.resolve()}"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        pass
    try:
        cred = fb_credentials.Certificate(str(path))
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"FIREBASE_SERVICE_ACCOUNT_PATH={path} is not a readable service-account JSON "
            f"file: {e}"
        ) from None
    return firebase_admin.initialize_app(cred, name=name)


def _target(settings: FirestoreSettings) -> tuple[str, Credentials, str | None]:
    """(project, credentials, emulator host or None) from the settings, never the bare env."""
    if settings.firebase_service_account_path:
        app = _firebase_app(Path(settings.firebase_service_account_path))
        project = app.project_id
        if not project:
            raise ConfigError(
                "FIREBASE_SERVICE_ACCOUNT_PATH: the service-account file names no project_id"
            )
        if settings.firestore_emulator_host:
            log.warning("FIREBASE_SERVICE_ACCOUNT_PATH is set, so FIRESTORE_EMULATOR_HOST "
                        "is ignored; using project %s", project)
        return project, app.credential.get_credential(), None
    if settings.firestore_emulator_host:
        host = settings.firestore_emulator_host
        return settings.google_cloud_project, AnonymousCredentials(), host
    raise ConfigError(firestore_target_error())


def _point_at(client: Any, emulator_host: str | None) -> Any:
    # The library decides emulator-or-not from the process environment alone; the settings
    # must win (a service account beats a stray FIRESTORE_EMULATOR_HOST, and tests pass
    # settings directly).
    client._emulator_host = emulator_host
    return client


def make_async_client(settings: FirestoreSettings) -> firestore.AsyncClient:
    project, creds, emulator = _target(settings)
    return _point_at(firestore.AsyncClient(project=project, credentials=creds), emulator)


def make_sync_client(settings: FirestoreSettings) -> firestore.Client:
    """Blocking client for the menu watch thread and the staff scripts; never on the loop."""
    project, creds, emulator = _target(settings)
    return _point_at(firestore.Client(project=project, credentials=creds), emulator)


def close_sync_client(client: firestore.Client) -> None:
    """Close the gRPC channel of a sync client (the library's Client has no close())."""
    transport = getattr(client, "_transport", None)
    if transport is not None:
        transport.close()
