"""Roles and what each may do. Checked on every web route and API call."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    INVENTORY_READ = "inventory:read"
    INVENTORY_WRITE = "inventory:write"
    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"
    ESTABLISHMENTS_ADMIN = "establishments:admin"
    WATCH_READ = "watch:read"  # exposures, advisories, bulletins
    WATCH_TRIAGE = "watch:triage"  # change an exposure's status, declare false positives
    DETECT_READ = "detect:read"  # detection alerts and the log events copied into them
    DETECT_TRIAGE = "detect:triage"  # change an alert's status
    PHISHING_READ = "phishing:read"  # reported emails, their verdicts and content
    PHISHING_TRIAGE = "phishing:triage"  # upload a message, override a verdict


class Role(StrEnum):
    """Who the user is for Tocsin.

    admin: everything, including accounts. rssi: the security officer, all but accounts.
    analyst: reads everything and works on inventory and detections. dpo: the data
    protection officer, reads and works on incidents and GDPR. viewer: read only.
    """

    ADMIN = "admin"
    RSSI = "rssi"
    ANALYST = "analyst"
    DPO = "dpo"
    VIEWER = "viewer"

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self]

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self]


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.RSSI: frozenset(
        {
            Permission.INVENTORY_READ,
            Permission.INVENTORY_WRITE,
            Permission.AUDIT_READ,
            Permission.WATCH_READ,
            Permission.WATCH_TRIAGE,
            Permission.DETECT_READ,
            Permission.DETECT_TRIAGE,
            Permission.PHISHING_READ,
            Permission.PHISHING_TRIAGE,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Permission.INVENTORY_READ,
            Permission.INVENTORY_WRITE,
            Permission.WATCH_READ,
            Permission.WATCH_TRIAGE,
            Permission.DETECT_READ,
            Permission.DETECT_TRIAGE,
            Permission.PHISHING_READ,
            Permission.PHISHING_TRIAGE,
        }
    ),
    Role.DPO: frozenset({Permission.INVENTORY_READ, Permission.AUDIT_READ, Permission.WATCH_READ}),
    Role.VIEWER: frozenset({Permission.INVENTORY_READ, Permission.WATCH_READ}),
}
