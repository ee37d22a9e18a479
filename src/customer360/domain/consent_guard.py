"""Changes that would contradict the customer's consent are refused (the seed's ConsentViolationException).

- **A preferred channel the customer revoked.** Refused when the customer has said something about the
  channel as a whole and every such statement (per purpose) is a revocation or an objection: the customer
  said "no" on that channel and "yes" to nothing on it.
- **A subscription without consent.** Opting a channel in for a topic (a communication preference with
  ``optIn`` for a topic other than ``ALL``) needs the consent policy to allow that channel for the topic
  as a purpose. Only preferences that the change newly opts in are checked: an unrelated edit of a profile
  whose consent has since expired stays possible.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from customer360.domain.consent import ConsentRecord, ConsentStatus, ContactPoint, current_consents
from customer360.domain.consent_policy import ALL_TOPICS, CustomerContext, PurposePolicy, decide
from customer360.domain.errors import ConsentViolation
from customer360.domain.values import Channel, CommunicationPreferences


def _subscriptions(preferences: CommunicationPreferences) -> set[tuple[Channel, str]]:
    return {(p.channel, p.topic) for p in preferences.channels if p.opt_in and p.topic != ALL_TOPICS}


def check_preferred_channel(
    before: CommunicationPreferences, after: CommunicationPreferences, records: Collection[ConsentRecord], field: str
) -> None:
    channel = after.preferred_channel
    if channel is None or channel is before.preferred_channel:
        return
    statements = [r for r in current_consents(records) if r.channel is channel and r.contact_point is None]
    if statements and all(r.status is ConsentStatus.REVOKED for r in statements):
        raise ConsentViolation(
            f"The customer revoked consent for {channel.value}; it cannot be the preferred channel",
            {"field": f"{field}.preferredChannel", "channel": channel.value, "consentIds": [r.id for r in statements]},
        )


def new_subscription_topics(before: CommunicationPreferences, after: CommunicationPreferences) -> set[str]:
    """The topics a change opts in for the first time (their purpose policies are needed to check them)."""
    return {topic for _, topic in _subscriptions(after) - _subscriptions(before)}


def check_preferences_respect_consent(
    before: CommunicationPreferences,
    after: CommunicationPreferences,
    records: Collection[ConsentRecord],
    *,
    policy_for: Callable[[str], PurposePolicy],
    contact_point: ContactPoint | None,
    now: datetime,
    field: str,
) -> None:
    check_preferred_channel(before, after, records, field)
    for channel, topic in sorted(_subscriptions(after) - _subscriptions(before)):
        decision = decide(
            records,
            channel=channel,
            purpose=topic,
            contact_point=contact_point,
            now=now,
            policy=policy_for(topic),
            customer=CustomerContext(),
        )
        if not decision.allowed:
            raise ConsentViolation(
                f"Subscribing {channel.value} to {topic} needs the customer's consent for that purpose",
                {
                    "field": f"{field}.channels",
                    "channel": channel.value,
                    "topic": topic,
                    "reason": decision.reason.value,
                    "consentId": decision.deciding_record.id if decision.deciding_record else None,
                },
            )
