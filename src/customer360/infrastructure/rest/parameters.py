"""Path, query and caller parameters shared by the routers (one definition each)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from customer360.domain.ids import CUSTOMER_PREFIX, id_pattern
from customer360.infrastructure.rest.auth import Principal
from customer360.infrastructure.rest.dependencies import require

CustomerId = Annotated[
    str, Path(alias="customerId", pattern=id_pattern(CUSTOMER_PREFIX), examples=["CUST-01JDX3Y7ZK8V2N4Q6R8T0W2Y4A"])
]
Cursor = Annotated[str | None, Query(max_length=300)]
Limit = Annotated[int, Query(ge=1, le=200)]
# Numbers are not timestamps here (pydantic would read 0.5 as seconds since 1970).
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"

# Callers holding the customer permissions (the other routers name their own resource's permissions).
Reader = Annotated[Principal, Depends(require("crm.customer:read"))]
Writer = Annotated[Principal, Depends(require("crm.customer:write"))]
