"""Signed sessions, the shared key, and who may read or write which department."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import stat

import pytest

from services.common.auth import (
    OPERATOR,
    Principal,
    PrincipalKind,
    Role,
    SessionCodec,
    principal_claims,
    principal_from_claims,
    session_key,
)
from services.common.settings import Settings

KEY = b"k" * 32
NOW = dt.datetime(2017, 7, 10, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(payload: bytes, key: bytes = KEY) -> str:
    """A token made by hand in the documented form: base64url(JSON) "." base64url(HMAC-SHA256)."""
    body = _b64(payload)
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def test_claims_round_trip_with_issue_and_expiry_times():
    token = SessionCodec(KEY).issue({"sub": "7", "role": "analyst"}, HOUR, now=NOW)
    claims = SessionCodec(KEY).verify(token, now=NOW + dt.timedelta(minutes=59))
    assert claims == {
        "sub": "7",
        "role": "analyst",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + HOUR).timestamp()),
    }


def test_the_format_is_base64url_json_dot_hmac_sha256():
    exp = int((NOW + HOUR).timestamp())
    made_by_hand = _signed(json.dumps({"sub": "1", "exp": exp}).encode())
    assert SessionCodec(KEY).verify(made_by_hand, now=NOW) == {"sub": "1", "exp": exp}


def test_a_changed_payload_is_refused():
    codec = SessionCodec(KEY)
    token = codec.issue({"sub": "7", "role": "viewer"}, HOUR, now=NOW)
    payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = _b64(json.dumps({**claims, "role": "admin"}, separators=(",", ":"), sort_keys=True).encode())
    assert codec.verify(f"{forged}.{signature}", now=NOW) is None


@pytest.mark.parametrize("position", [0, 10, -1])
def test_a_changed_signature_is_refused(position):
    codec = SessionCodec(KEY)
    token = codec.issue({"sub": "7"}, HOUR, now=NOW)
    payload, signature = token.split(".")
    chars = list(signature)
    chars[position] = "A" if chars[position] != "A" else "B"
    assert codec.verify(f"{payload}.{''.join(chars)}", now=NOW) is None
    assert codec.verify(payload, now=NOW) is None
    assert codec.verify(f"{payload}.", now=NOW) is None


def test_a_session_expires_at_its_exp_second():
    codec = SessionCodec(KEY)
    token = codec.issue({"sub": "7"}, HOUR, now=NOW)
    assert codec.verify(token, now=NOW + HOUR - dt.timedelta(seconds=1)) is not None
    assert codec.verify(token, now=NOW + HOUR) is None
    assert codec.verify(token, now=NOW + 2 * HOUR) is None
    # Without `now`, the real clock: a session issued in 2017 is long gone.
    assert codec.verify(token) is None


def test_another_key_does_not_verify_it():
    token = SessionCodec(KEY).issue({"sub": "7"}, HOUR, now=NOW)
    assert SessionCodec(b"x" * 32).verify(token, now=NOW) is None


def test_a_key_shorter_than_32_bytes_is_refused():
    with pytest.raises(ValueError, match="32 bytes"):
        SessionCodec(b"k" * 31)


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "no-dot-at-all",
        "a.b.c",
        "%%%.%%%",
        "payload.sïgnature",  # not ASCII: compared as text it would raise, not refuse
        "pä yload.signature",
    ],
)
def test_garbage_is_refused_without_raising(token):
    assert SessionCodec(KEY).verify(token, now=NOW) is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"sub": "7"}',  # no expiry
        b'{"sub": "7", "exp": "99999999999"}',  # expiry as text
        b'{"sub": "7", "exp": 99999999999.5}',  # expiry not a whole second
    ],
)
def test_signed_but_malformed_claims_are_refused(payload):
    assert SessionCodec(KEY).verify(_signed(payload), now=NOW) is None


def test_claims_carry_a_principal_and_bad_claims_carry_none():
    principal = Principal(PrincipalKind.user, "7", "Ann", Role.liaison, "DPW", csrf="c")
    assert principal_from_claims(principal_claims(principal)) == principal
    good = principal_claims(principal)
    for broken in ({**good, "role": "root"}, {**good, "role": None}, {k: v for k, v in good.items() if k != "sub"}):
        assert principal_from_claims(broken) is None


def test_the_session_secret_setting_is_the_key(tmp_path):
    settings = Settings(data_dir=tmp_path, session_secret="s" * 40)
    assert session_key(settings) == b"s" * 40
    assert not (tmp_path / "session.key").exists()


def test_without_a_secret_a_private_key_file_is_made_once_and_reused(tmp_path):
    settings = Settings(data_dir=tmp_path / "new-folder")
    first = session_key(settings)
    path = tmp_path / "new-folder" / "session.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    SessionCodec(first)  # long enough to sign with
    written = path.read_bytes()
    assert session_key(settings) == first
    assert session_key(Settings(data_dir=tmp_path / "new-folder")) == first
    assert path.read_bytes() == written


def test_an_existing_key_file_is_used_as_it_is(tmp_path):
    (tmp_path / "session.key").write_text("an-existing-key-made-by-another-service-0123456789\n")
    assert session_key(Settings(data_dir=tmp_path)) == b"an-existing-key-made-by-another-service-0123456789"


def _user(role: Role, department: str | None = None) -> Principal:
    return Principal(PrincipalKind.user, "1", "someone", role, department)


TOKEN_A = Principal(PrincipalKind.token, "3", "A's system", department="A")

# principal -> (readable of A and B, writable of A and B, readable_departments())
TRUTH = [
    ("admin", _user(Role.admin), {"A", "B"}, {"A", "B"}, None),
    ("admin with a department", _user(Role.admin, "A"), {"A", "B"}, {"A", "B"}, None),
    ("analyst", _user(Role.analyst), {"A", "B"}, {"A", "B"}, None),
    ("liaison of A", _user(Role.liaison, "A"), {"A"}, {"A"}, {"A"}),
    ("liaison without a department", _user(Role.liaison), set(), set(), set()),
    ("head of A", _user(Role.head, "A"), {"A"}, {"A"}, {"A"}),
    ("viewer of A", _user(Role.viewer, "A"), {"A"}, set(), {"A"}),
    ("citywide viewer", _user(Role.viewer), {"A", "B"}, set(), None),
    ("token of A", TOKEN_A, {"A"}, {"A"}, {"A"}),
    ("operator", OPERATOR, {"A", "B"}, {"A", "B"}, None),
]


@pytest.mark.parametrize(("name", "principal", "reads", "writes", "readable"), TRUTH, ids=[t[0] for t in TRUTH])
def test_who_may_read_and_write_which_department(name, principal, reads, writes, readable):
    assert {d for d in ("A", "B") if principal.can_read(d)} == reads
    assert {d for d in ("A", "B") if principal.can_write(d)} == writes
    assert principal.readable_departments() == readable
    assert principal.is_citywide == (readable is None)
    # Whoever may write a department may read it.
    assert writes <= reads


def test_every_role_is_in_the_truth_table():
    covered = {p.role for _, p, *_ in TRUTH if p.kind is PrincipalKind.user}
    assert covered == set(Role)


def test_only_a_department_s_own_head_heads_it_and_only_the_office_is_the_performance_office():
    assert _user(Role.head, "A").heads("A")
    assert not _user(Role.head, "A").heads("B")
    assert not _user(Role.liaison, "A").heads("A")
    assert not _user(Role.analyst).heads("A")
    office = {name for name, p, *_ in TRUTH if p.is_performance_office}
    assert office == {"admin", "admin with a department", "analyst", "operator"}


def test_actors_name_the_principal_as_the_audit_trail_does():
    assert _user(Role.viewer).actor == "user:1"
    assert TOKEN_A.actor == "token:3"
    assert OPERATOR.actor == "operator"
