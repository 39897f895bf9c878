"""Password hashing with argon2id, and the rules a new password follows (NIST SP 800-63B).

Length is what counts: 12 characters at least, any characters, no
composition rules, and not one of the common passwords shipped in
`hiveo/data/common_passwords.txt` (see scripts/build_common_passwords.py).
"""

from __future__ import annotations

import functools
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106's second recommended option (64 MiB, 3 passes). The "fast" profile
# exists for the test suite only, where thousands of hashes would otherwise
# take minutes; it is selected by config, never by an environment variable.
_PROFILES = {
    "default": PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID),
}

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 512
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"


def _hasher(profile: str) -> PasswordHasher:
    return _PROFILES[profile]


def hash_password(password: str, profile: str = "default") -> str:
    return _hasher(profile).hash(password)


def verify_password(password_hash: str, password: str, profile: str = "default") -> bool:
    try:
        return _hasher(profile).verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, profile: str = "default") -> bool:
    return _hasher(profile).check_needs_rehash(password_hash)


_DUMMY_HASHES: dict[str, str] = {}


def burn_time(password: str, profile: str = "default") -> None:
    """Spend as long as a real check, so unknown e-mails answer at the same pace."""
    dummy = _DUMMY_HASHES.get(profile)
    if dummy is None:
        dummy = _DUMMY_HASHES.setdefault(profile, hash_password("not a real password", profile))
    verify_password(dummy, password, profile)


@functools.cache
def common_passwords() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in COMMON_PASSWORDS.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, email: str = "") -> str | None:
    """A French explanation of why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit comporter au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Le mot de passe doit comporter au plus {MAX_PASSWORD_LENGTH} caractères."
    if password.strip() == "":
        return "Le mot de passe ne peut pas être composé uniquement d'espaces."
    folded = password.lower()
    if len(set(folded)) <= 2:
        return "Ce mot de passe répète les mêmes caractères : choisissez-en un plus varié."
    if folded in common_passwords() or folded.strip() in common_passwords():
        return ("Ce mot de passe fait partie des mots de passe les plus courants : "
                "choisissez-en un autre, par exemple une phrase de plusieurs mots.")
    if email and folded in (email.lower(), email.lower().partition("@")[0]):
        return "Le mot de passe ne doit pas être votre adresse e-mail."
    return None
