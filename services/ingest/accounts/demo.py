"""Staff accounts for the demo city, so `make run` can be signed in to at once.

They share one published password: a demo, never a deployment (README says so)."""

from __future__ import annotations

from sqlmodel import Session, select

from services.common.auth import Role
from services.ingest.accounts.models import StaffUser
from services.ingest.accounts.service import hash_password

DEMO_PASSWORD = "citystat-demo"
# Reserved for examples (RFC 2606 style): reminders to demo accounts go nowhere real.
DEMO_EMAIL_DOMAIN = "citystat.example"


def demo_staff(department_codes: list[str]) -> list[tuple[str, str, Role, str | None]]:
    """(username, display name, role, department) for an admin, an analyst, a citywide viewer and a
    liaison and a head per department."""
    staff = [
        ("admin", "Demo Administrator", Role.admin, None),
        ("analyst", "Performance Office Analyst", Role.analyst, None),
        ("viewer", "Citywide Viewer", Role.viewer, None),
    ]
    staff += [(f"{code.lower()}.liaison", f"{code} Liaison", Role.liaison, code) for code in department_codes]
    staff += [(f"{code.lower()}.head", f"{code} Head", Role.head, code) for code in department_codes]
    return staff


def ensure_demo_staff(session: Session, department_codes: list[str]) -> list[str]:
    """Create the missing demo accounts; returns the usernames created."""
    existing = set(session.exec(select(StaffUser.username)))
    password_hash = hash_password(DEMO_PASSWORD)
    created = []
    for username, name, role, department in demo_staff(department_codes):
        if username in existing:
            continue
        session.add(
            StaffUser(
                username=username,
                display_name=name,
                password_hash=password_hash,
                role=str(role),
                department_code=department,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                created_by="operator",
            )
        )
        created.append(username)
    session.flush()
    return created
