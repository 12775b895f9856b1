"""Staff accounts: argon2 password hashes, roles, and the rules an administrator must follow."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, func, select

from services.common.auth import Principal, PrincipalKind, Role
from services.common.errors import Conflict, NotFound, Unprocessable
from services.common.pagination import PageParams
from services.ingest.accounts.models import StaffUser
from services.ingest.accounts.schemas import UserCreate, UserPublic, UserUpdate
from services.ingest.base import utcnow

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def to_public(user: StaffUser) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        department=user.department_code,
        email=user.email,
        active=user.active,
        created_at=user.created_at,
        created_by=user.created_by,
        last_login_at=user.last_login_at,
    )


def to_principal(user: StaffUser, csrf: str | None = None) -> Principal:
    return Principal(
        kind=PrincipalKind.user,
        id=str(user.id),
        name=user.display_name,
        role=Role(user.role),
        department=user.department_code,
        csrf=csrf,
        session_epoch=user.session_epoch,
    )


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.exec(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def create_user(session: Session, body: UserCreate, created_by: str) -> StaffUser:
    if session.exec(select(StaffUser).where(StaffUser.username == body.username)).first() is not None:
        raise Conflict(f"The username '{body.username}' is taken.")
    user = StaffUser(
        username=body.username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=str(body.role),
        department_code=body.department,
        email=body.email,
        created_by=created_by,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"No user has the id {user_id}.")
    return user


def update_user(session: Session, user_id: int, body: UserUpdate, acting: Principal) -> StaffUser:
    user = get_user(session, user_id)
    changes = body.model_dump(exclude_unset=True)
    # A null role means "unchanged", as for anyone else: only a real other role is a demotion.
    if str(user.id) == acting.id and (changes.get("active") is False or changes.get("role") not in (None, Role.admin)):
        # Otherwise the last administrator could lock everyone out of the user pages.
        raise Unprocessable("You cannot demote or deactivate yourself; ask another administrator.")
    role = Role(changes.get("role") or user.role)
    department = changes["department"] if "department" in changes else user.department_code
    if role in (Role.liaison, Role.head) and not department:
        raise Unprocessable(f"A {role} belongs to a department: give 'department'.")
    if "display_name" in changes and changes["display_name"] is not None:
        user.display_name = changes["display_name"]
    if changes.get("password"):
        user.password_hash = hash_password(changes["password"])
    if changes.get("active") is not None:
        user.active = changes["active"]
    if "email" in changes:
        user.email = changes["email"]
    if (
        changes.get("password")
        or changes.get("active") is False
        or str(role) != user.role
        or department != user.department_code
    ):
        # Sessions carry role and department: ones signed before this change must not outlive it.
        user.session_epoch += 1
    user.role, user.department_code = str(role), department
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, page: PageParams) -> tuple[list[UserPublic], int]:
    total = session.exec(select(func.count()).select_from(StaffUser)).one()
    users = session.exec(select(StaffUser).order_by(StaffUser.username).offset(page.offset).limit(page.limit))
    return [to_public(u) for u in users], total


def end_sessions(session: Session, user_id: int) -> None:
    user = session.get(StaffUser, user_id)
    if user is not None:
        user.session_epoch += 1
        session.add(user)


def current_principal_of(session: Session, principal: Principal) -> Principal | None:
    """The signed-in principal as the accounts table says it is now; None when the session is over."""
    user = session.get(StaffUser, int(principal.id)) if principal.id.isdigit() else None
    if user is None or not user.active or principal.session_epoch != user.session_epoch:
        return None
    return to_principal(user, principal.csrf)
