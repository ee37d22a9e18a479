"""Privacy handlers against in-memory fakes: lineage erasure, holds, suppression, double opt-in, expiry."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from customer360.application import consent_workflows, consents, customers, privacy
from customer360.domain.consent import ConsentStatus
from customer360.domain.consent_policy import ConfirmationRefused
from customer360.domain.events import ConsentUpdated, CustomerErased, PrivacyActivity
from customer360.domain.privacy import SUPPRESSED_FLAG, LegalHoldActive
from customer360.domain.values import CustomerStatus
from tests.support.inputs import profile_input
from tests.unit.fakes import FakeUnitOfWork, Store, env


async def _run(store: Store, handler: Any, command: Any) -> Any:
    uow = FakeUnitOfWork(store)
    result = await handler(command, uow, env())
    assert not uow.committed, "handlers never commit"
    await uow.commit()
    return result


async def _person(store: Store, email: str = "ada@example.org") -> str:
    attributes = {"kind": "PERSON", "given_name": "Ada", "family_name": "Byron", "emails": [{"address": email}]}
    created = await _run(
        store, customers.create_customer_profile, customers.CreateCustomerProfile(profile_input(attributes))
    )
    return str(created.customer_id)


async def _lineage(store: Store) -> list[str]:
    """A golden profile and two profiles merged into it (the fake's merge links)."""
    ids = [await _person(store, f"p{i}@example.org") for i in range(3)]
    for merged in ids[1:]:
        store.profiles[merged].status = CustomerStatus.MERGED
        store.profiles[merged].merged_into = ids[0]
        store.privacy.merged_into[merged] = ids[0]
    return ids


class TestErasure:
    async def test_the_whole_lineage_is_erased_and_one_event_announces_it(self) -> None:
        """Erasing a merged duplicate erases all three profiles; the requested one announces all ids."""
        store = Store()
        ids = await _lineage(store)
        request = await _run(store, privacy.erase_customer, privacy.EraseCustomer(ids[2], "Art. 17", "ticket 1"))
        announced = [e for e in store.published if isinstance(e, CustomerErased) and e.published]
        lineage = (ids[0], *sorted(ids[1:]))  # the survivor first, then by depth and id
        assert ([CustomerStatus.ERASED] * 3, [(ids[2], lineage)]) == (
            [store.profiles[i].status for i in ids],
            [(e.customer_id, e.erased_customer_ids) for e in announced],
        )
        assert lineage == request.erased_customer_ids

    async def test_a_hold_on_any_profile_of_the_lineage_blocks(self) -> None:
        """A hold on a merged duplicate blocks the erasure of the golden profile; nothing changes."""
        store = Store()
        ids = await _lineage(store)
        await _run(store, privacy.place_legal_hold, privacy.PlaceLegalHold(ids[1], "litigation"))
        with pytest.raises(LegalHoldActive):
            await _run(store, privacy.erase_customer, privacy.EraseCustomer(ids[0], "Art. 17", "ticket 1"))
        assert [store.profiles[i].status for i in ids] == [
            CustomerStatus.ACTIVE,
            CustomerStatus.MERGED,
            CustomerStatus.MERGED,
        ]

    async def test_a_released_hold_no_longer_blocks(self) -> None:
        """Place, release, erase."""
        store = Store()
        cid = await _person(store)
        hold = await _run(store, privacy.place_legal_hold, privacy.PlaceLegalHold(cid, "audit"))
        await _run(store, privacy.release_legal_hold, privacy.ReleaseLegalHold(cid, hold.id))
        request = await _run(store, privacy.erase_customer, privacy.EraseCustomer(cid, "Art. 17", "ticket 1"))
        assert request.status.value == "COMPLETED"

    async def test_the_erased_contact_points_are_suppressed_and_flag_a_new_profile(self) -> None:
        """After erasure, a new profile with the same e-mail is flagged SUPPRESSED_CONTACT_POINT."""
        store = Store()
        await _run(store, privacy.erase_customer, privacy.EraseCustomer(await _person(store), "Art. 17", "t"))
        again = await _person(store, "ADA@example.org")
        assert store.privacy.flags[again] == [SUPPRESSED_FLAG]

    async def test_an_unrelated_profile_is_not_flagged(self) -> None:
        """Other e-mail, no flag."""
        store = Store()
        await _run(store, privacy.erase_customer, privacy.EraseCustomer(await _person(store), "Art. 17", "t"))
        other = await _person(store, "someone.else@example.org")
        assert other not in store.privacy.flags

    async def test_the_export_is_audited_without_values(self) -> None:
        """PERSONAL_DATA_EXPORTED names the profiles and sections exported."""
        store = Store()
        ids = await _lineage(store)
        document = await _run(store, privacy.export_personal_data, privacy.ExportPersonalData(ids[1]))
        [audited] = [e for e in store.privacy.audited if isinstance(e, PrivacyActivity)]
        assert ([ids[0], *sorted(ids[1:])], ids[0], "PERSONAL_DATA_EXPORTED") == (
            document["lineage"],
            document["goldenCustomerId"],
            audited.what,
        )


class TestDoubleOptIn:
    async def _pending(self, store: Store) -> tuple[str, consents.ConsentRecorded]:
        cid = await _person(store)
        command = consents.RecordConsent(cid, "EMAIL", "GRANTED", source="WEB")
        return cid, await _run(store, consents.record_consent, command)

    async def test_a_web_grant_is_pending_and_only_its_token_hash_is_kept(self) -> None:
        """PENDING, a token answered, its SHA-256 stored."""
        store = Store()
        _, recorded = await self._pending(store)
        assert recorded.confirmation_token is not None
        assert ("PENDING", [consent_workflows.token_hash(recorded.confirmation_token)]) == (
            recorded.status,
            list(store.privacy.confirmations),
        )

    async def test_confirmation_appends_a_grant_and_uses_the_token(self) -> None:
        """The confirmation is a GRANTED record; the same token again is refused as USED."""
        store = Store()
        _, recorded = await self._pending(store)
        assert recorded.confirmation_token is not None
        confirm = consent_workflows.ConfirmConsent(recorded.confirmation_token)
        await _run(store, consent_workflows.confirm_consent, confirm)
        with pytest.raises(ConfirmationRefused) as refused:
            await _run(store, consent_workflows.confirm_consent, confirm)
        assert (
            [r.status for r in store.consents],
            refused.value.reason,
        ) == ([ConsentStatus.PENDING, ConsentStatus.GRANTED], "USED")

    async def test_an_expired_token_is_refused(self) -> None:
        """Past its expiry: EXPIRED."""
        store = Store()
        _, recorded = await self._pending(store)
        assert recorded.confirmation_token is not None
        [(digest, stored)] = store.privacy.confirmations.items()
        store.privacy.confirmations[digest] = dataclasses.replace(stored, expires_at=stored.created_at)
        with pytest.raises(ConfirmationRefused) as refused:
            await _run(
                store, consent_workflows.confirm_consent, consent_workflows.ConfirmConsent(recorded.confirmation_token)
            )
        assert refused.value.reason == "EXPIRED"


class TestExpiry:
    async def test_an_expired_grant_is_recorded_once(self) -> None:
        """The first run appends EXPIRED (with its event), the second nothing."""
        store = Store()
        cid = await _person(store)
        captured = env().clock.now() - timedelta(days=10)
        command = consents.RecordConsent(
            cid, "SMS", "GRANTED", captured_at=captured, expires_at=captured + timedelta(days=1)
        )
        await _run(store, consents.record_consent, command)
        first = await _run(store, consent_workflows.expire_consents, consent_workflows.ExpireConsents(cid))
        second = await _run(store, consent_workflows.expire_consents, consent_workflows.ExpireConsents(cid))
        statuses = [e.status for e in store.published if isinstance(e, ConsentUpdated)]
        assert (len(first), second, statuses) == (1, [], ["GRANTED", "EXPIRED"])
