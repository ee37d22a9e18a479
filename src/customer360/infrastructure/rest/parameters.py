"""Path, query and caller parameters shared by the routers (one definition each)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from starlette.convertors import StringConvertor, register_url_convertor

from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import require


class _ProfileSegment(StringConvertor):
    """``{customerId}`` right after ``/customers`` is anything but the words of the operations beside it.

    Starlette takes the first route whose path and method both match, so ``PATCH /customers/search`` (only GET
    exists) was taken for ``PATCH /customers/{customerId}`` with the id "search" and answered 400 for a malformed
    id, instead of 405 with ``Allow: GET``. Other malformed ids still reach the route and get their 400 naming
    the field. tests/unit/test_openapi_document.py fails if another literal sibling appears without being listed here.
    """

    regex = "(?!(?:lookup|search)(?:/|$))[^/]+"


register_url_convertor("profile", _ProfileSegment())
# The path of one profile, in routes: ``@router.get(PROFILE_PATH)``.
PROFILE_PATH = "/{customerId:profile}"

CustomerId = Annotated[
    str, Path(alias="customerId", pattern=id_pattern(CUSTOMER_PREFIX), examples=["CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"])
]
# Cursors are base64url without padding (persistence/profile_queries.py: encode_cursor); what they encode is
# the API's own business, so only one it returned is a position.
Cursor = Annotated[
    str | None,
    Query(max_length=300, pattern="^[A-Za-z0-9_-]+$", description="The nextCursor of the previous page, as given"),
]
# An e-mail address as a search key holds an @; as a lookup key, an @ with something before and after it.
_TEXT = "[^\\u0000-\\u001f\\u007f-\\u009f]*"
_SIGN = "[^\\u0000-\\u001f\\u007f-\\u009f@\\s]"
SEARCH_EMAIL = f"^{_TEXT}@{_TEXT}$"
WHOLE_EMAIL = f"^{_TEXT}{_SIGN}{_TEXT}@{_TEXT}{_SIGN}{_TEXT}$"
Limit = Annotated[int, Query(ge=1, le=200)]
# Numbers are not timestamps here (pydantic would read 0.5 as seconds since 1970).
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"

# Callers holding the customer permissions (the other routers name their own resource's permissions).
Reader = Annotated[Principal, Depends(require("crm.customer:read"))]
Writer = Annotated[Principal, Depends(require("crm.customer:write"))]
