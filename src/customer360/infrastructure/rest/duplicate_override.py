"""The real-time duplicate check that ``POST /customers`` asks for, and its override.

``?override=true`` with an ``X-Override-Reason`` header creates a likely duplicate anyway (the reason is
audited on the new profile). HTTP headers are ASCII: a reason with other characters is sent
percent-encoded (UTF-8) and decoded here.
"""

from __future__ import annotations

from urllib.parse import unquote

from customer360.application.duplicates import DuplicateCheck
from customer360.domain.duplicates import override_reason


def create_check(check_on_create: bool, override: bool, reason: str | None) -> DuplicateCheck | None:
    """None when the service does not check on create (DUPLICATE_CHECK_ON_CREATE=false) and no override
    is asked for; otherwise the check, carrying the override's reason when there is one."""
    if override:
        return DuplicateCheck(override_reason=override_reason(unquote(reason) if reason is not None else None))
    if check_on_create:
        return DuplicateCheck()
    return None
