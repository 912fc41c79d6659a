"""Staff PINs: salted PBKDF2 hashes (never the PIN itself), and whether a PIN is still the initial one.

A PIN given out by the hall definition (``staff.toml``) is *initial*: it is stored with the prefix
``initial$`` and must be changed at the first sign-in (``core.staff.change_pin``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 120_000


INITIAL = "initial$"
MIN_NEW_PIN = 6


def hash_pin(
    pin: str, *, salt: str | None = None, iterations: int = ITERATIONS, initial: bool = False
) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"{INITIAL if initial else ''}pbkdf2_sha256${iterations}${salt}${digest}"


def pin_is_initial(stored: str) -> bool:
    return stored.startswith(INITIAL)


def new_pin_problem(pin: str, old_pin: str) -> tuple[str, str] | None:
    """Why ``pin`` cannot replace ``old_pin`` (zh, en), or None."""
    if not pin.isascii() or not pin.isdigit() or len(pin) < MIN_NEW_PIN:
        return (f"新PIN须为至少{MIN_NEW_PIN}位数字", f"the new PIN must be at least {MIN_NEW_PIN} digits")
    if pin == old_pin:
        return ("新PIN不能与原PIN相同", "the new PIN must differ from the old one")
    if len(set(pin)) == 1 or pin in "01234567890123456789" or pin in "98765432109876543210":
        return (
            "新PIN过于简单（重复或连续数字）：请换一个",
            "the new PIN is too simple (repeated or consecutive digits)",
        )
    return None


def verify_pin(pin: str, stored: str) -> bool:
    stored = stored.removeprefix(INITIAL)
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)
