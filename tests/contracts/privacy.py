"""PrivacyStore (``uow.privacy``) and ConsentRules (``uow.consent_rules``): lineage, holds, suppression,
privacy flags, the export; the tenant's purpose policies and the double opt-in tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from customer360.application.privacy_ports import Confirmation
from customer360.domain.consent import CaptureSource, ConsentStatus, LegalBasis
from customer360.domain.consent_policy import PurposePolicy, default_policy
from customer360.domain.errors import CustomerNotFound, VersionMismatch
from customer360.domain.ids import CUSTOMER_PREFIX, LEGAL_HOLD_PREFIX, new_id
from customer360.domain.privacy import ContactPointValue, LegalHold, LegalHoldNotFound
from tests.contracts.units import T0, Units, consent, moments, profile, stored


def _hold(customer_id: str, placed_at: datetime = T0) -> LegalHold:
    return LegalHold.place(
        id=new_id(LEGAL_HOLD_PREFIX),
        customer_id=customer_id,
        reason="litigation",
        expires_at=None,
        actor="contract",
        now=placed_at,
    )


class PrivacyStoreContract:
    async def test_the_lineage_is_the_survivor_then_the_merged_profiles(self, units: Units) -> None:
        """From any member: the survivor first, then the profiles merged into it, by depth and id."""
        survivor, merged, merged_deeper = profile("A"), profile("B"), profile("C")
        merged.merge_into(survivor.id, actor="contract", now=T0)
        merged_deeper.merge_into(merged.id, actor="contract", now=T0)
        await stored(units, survivor, merged, merged_deeper)
        async with units() as uow:
            lineage = await uow.privacy.lineage(merged_deeper.id)
        assert lineage == [survivor.id, merged.id, merged_deeper.id]

    async def test_the_lineage_of_an_unknown_id_is_not_found(self, units: Units) -> None:
        """CustomerNotFound."""
        async with units() as uow:
            with pytest.raises(CustomerNotFound):
                await uow.privacy.lineage(new_id(CUSTOMER_PREFIX))

    async def test_holds_read_back_oldest_first_and_released(self, units: Units) -> None:
        """Holds of the given profiles by placement time; a saved release is kept."""
        a, b = await stored(units, profile("A"), profile("B"))
        at = moments()
        first, second = _hold(b, next(at)), _hold(a, next(at))
        async with units() as uow:
            await uow.privacy.add_hold(second)
            await uow.privacy.add_hold(first)
        async with units() as uow:
            locked = await uow.privacy.hold_for_update(a, second.id)
            locked.release(actor="contract", now=T0 + timedelta(days=1))
            await uow.privacy.save_hold(locked)
        async with units() as uow:
            holds = await uow.privacy.holds([a, b])
        assert ([h.id for h in holds], holds[1].released_by) == ([first.id, second.id], "contract")

    async def test_a_hold_of_another_customer_is_not_found(self, units: Units) -> None:
        """hold_for_update with the wrong customer raises LegalHoldNotFound."""
        a, b = await stored(units, profile("A"), profile("B"))
        hold = _hold(a)
        async with units() as uow:
            await uow.privacy.add_hold(hold)
        async with units() as uow:
            with pytest.raises(LegalHoldNotFound):
                await uow.privacy.hold_for_update(b, hold.id)

    async def test_suppressed_contact_points_are_recognised(self, units: Units) -> None:
        """After suppress, any set holding one of them is suppressed; others are not."""
        gone = ContactPointValue("EMAIL", "ada@example.org")
        async with units() as uow:
            await uow.privacy.suppress({gone}, "ERA-1", T0)
        async with units() as uow:
            other = ContactPointValue("PHONE", "+4930123456")
            answers = (await uow.privacy.suppressed({gone, other}), await uow.privacy.suppressed({other}))
        assert answers == (True, False)

    async def test_flags_are_kept_until_the_profile_is_erased(self, units: Units) -> None:
        """set_flags stores a sorted set; mark_erased drops them."""
        [customer_id] = await stored(units, profile())
        async with units() as uow:
            await uow.privacy.set_flags(customer_id, ["Z_FLAG", "A_FLAG", "Z_FLAG"])
        async with units() as uow:
            flags = await uow.privacy.flags(customer_id)
            await uow.privacy.mark_erased([customer_id], "ERA-1", T0)
        async with units() as uow:
            assert (flags, await uow.privacy.flags(customer_id)) == (["A_FLAG", "Z_FLAG"], [])

    async def test_the_export_lists_the_profiles_in_the_order_asked(self, units: Units) -> None:
        """The profiles section names each profile, the survivor first."""
        ids = await stored(units, profile("A"), profile("B"))
        async with units() as uow:
            document = await uow.privacy.export(list(reversed(ids)))
        assert [p["id"] for p in document["profiles"]] == list(reversed(ids))


class ConsentRulesContract:
    async def test_without_a_stored_policy_the_default_applies(self, units: Units) -> None:
        """policy(purpose) is the service default; nothing is listed as stored."""
        async with units() as uow:
            assert (await uow.consent_rules.policy("MARKETING"), await uow.consent_rules.stored_policies()) == (
                default_policy("MARKETING"),
                [],
            )

    async def test_saved_policies_read_back_by_purpose_with_versions(self, units: Units) -> None:
        """Each save is the next version; stored_policies lists them by purpose."""
        news = PurposePolicy.create(
            "NEWSLETTER", legal_bases=[LegalBasis.CONSENT], grant_validity_days=365, double_opt_in_sources=[]
        )
        ads = PurposePolicy.create(
            "ADS", legal_bases=[LegalBasis.CONSENT], grant_validity_days=None, double_opt_in_sources=[CaptureSource.WEB]
        )
        async with units() as uow:
            versions = [
                await uow.consent_rules.save_policy(news, expected_version=None, actor="contract", now=T0),
                await uow.consent_rules.save_policy(ads, expected_version=0, actor="contract", now=T0),
                await uow.consent_rules.save_policy(news, expected_version=1, actor="contract", now=T0),
            ]
        async with units() as uow:
            listed = [(s.policy, s.version) for s in await uow.consent_rules.stored_policies()]
            assert (versions, listed, await uow.consent_rules.policy("NEWSLETTER")) == (
                [1, 1, 2],
                [(ads, 1), (news, 2)],
                news,
            )

    async def test_a_policy_saved_from_a_stale_version_is_refused(self, units: Units) -> None:
        """expected_version other than the stored one raises VersionMismatch."""
        policy = default_policy("MARKETING")
        async with units() as uow:
            await uow.consent_rules.save_policy(policy, expected_version=None, actor="contract", now=T0)

        async def save_stale() -> None:
            async with units() as uow:
                await uow.consent_rules.save_policy(policy, expected_version=0, actor="contract", now=T0)

        with pytest.raises(VersionMismatch):
            await save_stale()

    async def test_a_confirmation_is_found_by_its_hash_and_used_once(self, units: Units) -> None:
        """The token's row reads back; mark_used records when; the consent it confirms is found by id."""
        [customer_id] = await stored(units, profile())
        pending = consent(customer_id, status=ConsentStatus.PENDING)
        token = Confirmation("a" * 64, pending.id, customer_id, T0, T0 + timedelta(days=2))
        async with units() as uow:
            await uow.consents.add(pending)
            await uow.consent_rules.add_confirmation(token)
        async with units() as uow:
            found = await uow.consent_rules.confirmation_for_update(token.token_hash)
            await uow.consent_rules.mark_used(token.token_hash, T0 + timedelta(hours=1), pending.id)
        async with units() as uow:
            used = await uow.consent_rules.confirmation_for_update(token.token_hash)
            record = await uow.consent_rules.consent(pending.id)
        assert (found, used and used.used_at, record) == (token, T0 + timedelta(hours=1), pending)
