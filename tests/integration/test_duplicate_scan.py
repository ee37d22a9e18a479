"""The batch scan and the review queue: pairs and transitive clusters stored for review, dismissals
that stick, resuming after an interruption, the tenant's model trained and refined, the API's job."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from customer360.application.duplicate_ports import ScanJob
from customer360.bootstrap import Services
from customer360.domain.matching import MatchModel
from customer360.infrastructure.forked import ForkedFunctionFailed, in_forked_process
from customer360.infrastructure.persistence.database import tenant_transaction
from customer360.infrastructure.persistence.scan_lock import try_lock_scan
from tests.support.api import CUSTOMERS
from tests.support.duplicates import (
    ANNA,
    ANNA_AGAIN,
    BERND,
    CLARA,
    CLARA_2,
    CLARA_3,
    DUPLICATES,
    created,
    pairs_of,
    queue,
    scan,
    strangers,
)
from tests.support.merges import merged
from tests.support.polling import poll


async def _population(client: httpx.AsyncClient, headers: dict[str, str], extra: int = 3) -> dict[str, str]:
    """Anna twice, Clara three times (a chain), Bernd and a few strangers once."""
    ids = {}
    for name, body in (("anna", ANNA), ("anna2", ANNA_AGAIN), ("clara", CLARA), ("clara2", CLARA_2)):
        ids[name] = await created(client, headers, body)
    ids["clara3"] = await created(client, headers, CLARA_3)
    ids["bernd"] = await created(client, headers, BERND)
    for i, body in enumerate(strangers(extra)):
        ids[f"stranger{i}"] = await created(client, headers, body)
    return ids


async def _wolframs_and_a_shared_email(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Three Wolframs in Hamburg (one weak key in common), and two strangers sharing an e-mail (a strong one)."""
    for i, given in enumerate(("Ute", "Kai", "Olaf")):
        address = {"type": "BILLING", "lines": [f"{given}weg {i + 1}"], "city": "Hamburg", "country": "DE"}
        body = {"kind": "PERSON", "givenName": given, "familyName": "Wolfram", "birthDate": f"19{60 + i}-02-03"}
        await created(client, headers, {**body, "addresses": [{**address, "postalCode": f"2{i}095"}]})
    for given, family in (("Ines", "Brandt"), ("Yusuf", "Demir")):
        email = {"emails": [{"address": "x@example.org"}]}
        await created(client, headers, {"kind": "PERSON", "givenName": given, "familyName": family, **email})


async def _stop_keys(services: Services, tenant: str) -> list[tuple[int, int]]:
    """The tenant's listed big keys: (key hash, profiles)."""
    async with tenant_transaction(services.engine, tenant) as connection:
        rows = await connection.execute(
            text("SELECT key_hash, profiles FROM match_stop_key WHERE tenant_id = :tenant ORDER BY key_hash"),
            {"tenant": tenant},
        )
        return [(key_hash, profiles) for key_hash, profiles in rows]


def _pair(*ids: str) -> frozenset[str]:
    return frozenset(ids)


def _scored(page: dict[str, Any]) -> dict[frozenset[str], tuple[Any, ...]]:
    """Each queued pair's probability, weight, explanation and cluster size."""
    return {
        _pair(i["left"]["id"], i["right"]["id"]): (
            i["probability"],
            i["matchWeight"],
            i["explanation"],
            i["clusterSize"],
        )
        for i in page["items"]
    }


class TestScan:
    async def test_the_scan_stores_likely_pairs_and_groups_transitive_ones_into_clusters(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Clara–Clara2 (e-mail) and Clara2–Clara3 (phone) make one cluster of three, though Clara and
        Clara3 share no key and are not a pair; Anna's twins are a cluster of two."""
        ids = await _population(client, headers)
        job = await scan(services, tenant)
        clusters = (await client.get(f"{DUPLICATES}/clusters", headers=headers)).json()["items"]
        expected_pairs = {
            _pair(ids["anna"], ids["anna2"]),
            _pair(ids["clara"], ids["clara2"]),
            _pair(ids["clara2"], ids["clara3"]),
        }
        assert (job.status, pairs_of(await queue(client, headers))) == ("COMPLETED", expected_pairs)
        assert sorted(frozenset(c["customerIds"]) for c in clusters) == sorted(
            [frozenset((ids["anna"], ids["anna2"])), frozenset((ids["clara"], ids["clara2"], ids["clara3"]))]
        )

    async def test_a_scan_finding_the_same_clusters_again_keeps_their_ids_and_pairs(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A cluster is named after its first member, so a second scan of unchanged profiles stores each
        pair as it was (same cluster id, probability, explanation), under its own scan id."""
        ids = await _population(client, headers)
        first = await scan(services, tenant)
        before = (await queue(client, headers))["items"]
        second = await scan(services, tenant)
        after = (await queue(client, headers))["items"]
        stable = ("clusterId", "probability", "matchWeight", "explanation")
        assert [{k: i[k] for k in stable} for i in after] == [{k: i[k] for k in stable} for i in before]
        assert {i["clusterId"] for i in after} == {
            "DCLU-" + min(ids["anna"], ids["anna2"]).rpartition("-")[2],
            "DCLU-" + min(ids["clara"], ids["clara2"], ids["clara3"]).rpartition("-")[2],
        }
        assert ({i["scanId"] for i in before}, {i["scanId"] for i in after}) == ({first.id}, {second.id})

    async def test_a_pair_the_next_scan_does_not_store_again_leaves_the_queue(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Scanned again with a review threshold above one pair's probability, the tenant keeps the others only."""
        await _population(client, headers)
        await scan(services, tenant)
        before = {
            _pair(i["left"]["id"], i["right"]["id"]): i["probability"] for i in (await queue(client, headers))["items"]
        }
        lowest, highest = min(before.values()), max(before.values())
        review = (lowest + highest) / 2
        body = {"reviewThreshold": review, "likelyThreshold": review, "autoMerge": False, "autoMergeThreshold": review}
        response = await client.put(f"{DUPLICATES}/settings", json=body, headers=headers)
        assert response.status_code == 200
        second = await scan(services, tenant)
        assert (second.result["storedPairs"], pairs_of(await queue(client, headers))) == (
            len(before) - 1,
            {pair for pair, probability in before.items() if probability > lowest},
        )

    async def test_the_queue_shows_both_profiles_the_explanation_and_the_way_to_merge(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Side by side (lower id left), field levels and weights, the cluster, links to dismiss and merge."""
        ids = await _population(client, headers)
        await scan(services, tenant)
        [item] = (await queue(client, headers, customerId=ids["anna2"]))["items"]
        levels = {e["field"]: e["level"] for e in item["explanation"]}
        merge = item["links"]["merge"]
        assert (item["status"], item["left"]["id"], item["right"]["familyName"], levels["family_name"]) == (
            "OPEN",
            ids["anna"],
            "Schmitt",
            "typo",
        )
        assert (item["clusterSize"], merge["href"], merge["body"]["sourceCustomerId"]) == (
            2,
            f"{CUSTOMERS}/{ids['anna']}/merge",
            ids["anna2"],
        )

    async def test_showing_profiles_in_the_queue_is_recorded_in_the_access_log(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Both profiles of every pair shown are personal data read by the steward: DUPLICATE_QUEUE."""
        ids = await _population(client, headers, extra=0)
        await scan(services, tenant)
        await queue(client, headers, customerId=ids["anna"])
        await services.access_log.flush()
        log = await client.get("/api/v1/crm/access-log", params={"customerId": ids["anna2"]}, headers=headers)
        assert [(e["action"], e["actor"]) for e in log.json()["items"]] == [("DUPLICATE_QUEUE", "steward-1")]

    async def test_the_queue_filters_by_probability_and_pages_with_a_cursor(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Most probable first; limit and nextCursor walk all pairs once; a probability floor filters."""
        await _population(client, headers)
        await scan(services, tenant)
        everything = (await queue(client, headers))["items"]
        first = await queue(client, headers, limit=2)
        second = await queue(client, headers, limit=2, cursor=first["nextCursor"])
        floor = everything[1]["probability"]
        probabilities = [i["probability"] for i in everything]
        assert probabilities == sorted(probabilities, reverse=True)
        assert ([i["pairId"] for i in first["items"] + second["items"]], second["nextCursor"]) == (
            [i["pairId"] for i in everything],
            None,
        )
        assert len((await queue(client, headers, minProbability=floor))["items"]) == 2

    async def test_a_dismissed_pair_is_never_suggested_again(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Dismissed: gone from the open queue, not found by the next scan, not a candidate of either
        profile; the queue keeps it under DISMISSED, and both audit trails record it."""
        ids = await _population(client, headers)
        await scan(services, tenant)
        pair_id = "~".join(sorted((ids["anna"], ids["anna2"])))
        response = await client.post(f"{DUPLICATES}/{pair_id}/dismiss", json={"note": "twins"}, headers=headers)
        assert (response.status_code, response.json()["decision"]["status"]) == (200, "NOT_DUPLICATE")
        await scan(services, tenant)
        open_pairs = pairs_of(await queue(client, headers))
        dismissed = pairs_of(await queue(client, headers, status="DISMISSED"))
        candidates = (await client.get(f"{CUSTOMERS}/{ids['anna']}/duplicates", headers=headers)).json()
        audit = (await client.get(f"{CUSTOMERS}/{ids['anna2']}/audit", headers=headers)).json()["items"]
        anna_pair = _pair(ids["anna"], ids["anna2"])
        assert (anna_pair in open_pairs, dismissed, candidates["candidates"]) == (False, {anna_pair}, [])
        assert [e["entityId"] for e in audit if e["action"] == "DUPLICATE_DISMISSED"] == [ids["anna"]]

    async def test_dismissing_twice_answers_the_first_decision_and_a_merged_pair_cannot_be_dismissed(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Idempotent dismissal; 409 PAIR_ALREADY_MERGED once the two were merged."""
        ids = await _population(client, headers, extra=0)
        anna_pair = "~".join(sorted((ids["anna"], ids["anna2"])))
        first = await client.post(f"{DUPLICATES}/{anna_pair}/dismiss", json={}, headers=headers)
        again = await client.post(f"{DUPLICATES}/{anna_pair}/dismiss", json={}, headers=headers)
        await merged(client, headers, ids["clara"], ids["clara2"])
        clara_pair = "~".join(sorted((ids["clara"], ids["clara2"])))
        refused = await client.post(f"{DUPLICATES}/{clara_pair}/dismiss", json={}, headers=headers)
        assert (first.json(), refused.status_code, refused.json()["error"]) == (
            again.json(),
            409,
            "PAIR_ALREADY_MERGED",
        )

    async def test_a_tenant_read_whole_and_one_read_chunk_by_chunk_give_the_same_pairs(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Blocking in memory (a tenant that fits the training sample) finds what the SQL finds: pairs of
        several keys, of one strong key, and none of one weak key."""
        await _population(client, headers, extra=12)
        await _wolframs_and_a_shared_email(client, headers)
        whole = await scan(services, tenant, chunk_size=4)
        whole_pairs = pairs_of(await queue(client, headers))
        chunked = await scan(services, tenant, chunk_size=4, training_records=5)
        assert (whole.result["candidatePairs"], whole_pairs) == (
            chunked.result["candidatePairs"],
            pairs_of(await queue(client, headers)),
        )

    async def test_a_tenant_read_whole_lists_the_big_keys_that_the_sql_count_lists(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """A scan reading the tenant whole counts its big keys in memory: those a scan chunk by chunk counts in SQL."""
        await _population(client, headers, extra=12)
        await _wolframs_and_a_shared_email(client, headers)
        whole = await scan(services, tenant, big_block_size=1)
        listed = await _stop_keys(services, tenant)
        chunked = await scan(services, tenant, big_block_size=1, training_records=5)
        assert len(listed) > 1
        assert (whole.result["bigKeys"], whole.result["stopKeys"], listed) == (
            chunked.result["bigKeys"],
            chunked.result["stopKeys"],
            await _stop_keys(services, tenant),
        )

    async def test_a_pair_sharing_one_key_needs_it_strong_and_small(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Three Wolframs in Hamburg share only a weak key (family name's sound + city): never scored. Two
        people sharing only an e-mail (a strong key) are scored while that key is a small block, not once
        it counts as big; twins sharing several keys are always scored."""
        await _wolframs_and_a_shared_email(client, headers)
        small = await scan(services, tenant, big_block_size=20)
        big = await scan(services, tenant, big_block_size=1)
        await created(client, headers, ANNA)
        await created(client, headers, ANNA_AGAIN)
        twins = await scan(services, tenant, big_block_size=1)
        assert (small.result["candidatePairs"], big.result["candidatePairs"], twins.result["candidatePairs"]) == (
            1,
            0,
            1,
        )

    async def test_an_interrupted_scan_resumes_from_its_checkpoint(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Stopped after the first chunk of pairs: the job is INTERRUPTED; run again, the same job goes
        on from the next chunk (never scoring a chunk twice) and ends with the same pairs as a full scan."""
        ids = await _population(client, headers)

        started: list[str] = []
        stopped_at: list[int] = []

        def stop_after_first_chunk(job: ScanJob) -> None:
            started.append(job.id)
            if job.phase == "PAIRS" and job.processed > 0:
                stopped_at.append(job.processed)  # a tenant read whole saves two chunks at once
                raise asyncio.CancelledError  # what Ctrl-C or a killed process does to the scan

        with pytest.raises(asyncio.CancelledError):
            await scan(services, tenant, chunk_size=3, on_progress=stop_after_first_chunk)
        interrupted_id = started[-1]
        reports: list[tuple[str, str, int]] = []
        resumed = await scan(
            services, tenant, chunk_size=3, on_progress=lambda j: reports.append((j.id, j.phase, j.processed))
        )
        status = (await client.get(f"{DUPLICATES}/scan/{resumed.id}", headers=headers)).json()
        first_pairs_report = next(r for r in reports if r[1] == "PAIRS")
        assert (resumed.id, status["status"], first_pairs_report[2]) == (interrupted_id, "COMPLETED", stopped_at[0])
        assert 0 < stopped_at[0] < len(ids)
        assert pairs_of(await queue(client, headers)) == {
            _pair(ids["anna"], ids["anna2"]),
            _pair(ids["clara"], ids["clara2"]),
            _pair(ids["clara2"], ids["clara3"]),
        }

    async def test_the_status_of_a_scan_left_running_without_its_process_is_interrupted(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """RUNNING in the table, but nobody holds the tenant's scan lock: GET answers INTERRUPTED."""
        await _population(client, headers, extra=0)
        started: list[str] = []

        def stop(job: ScanJob) -> None:
            started.append(job.id)
            if job.phase == "TRAIN":
                raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await scan(services, tenant, on_progress=stop)
        status = (await client.get(f"{DUPLICATES}/scan/{started[-1]}", headers=headers)).json()
        assert (status["status"], status["phase"]) == ("INTERRUPTED", "TRAIN")


class TestModel:
    async def test_the_default_model_is_served_before_any_training(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Version 0, source DEFAULT, MatchModel().to_dict()."""
        body = (await client.get(f"{DUPLICATES}/model", headers=headers)).json()
        assert (body["version"], body["source"], body["model"]) == (0, "DEFAULT", MatchModel().to_dict())

    async def test_a_scan_trains_the_model_and_the_stored_model_round_trips(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """EM on the tenant's profiles changes m, u and the prior; what is stored reads back identically."""
        await _population(client, headers, extra=40)
        await scan(services, tenant, min_training_records=20)
        body = (await client.get(f"{DUPLICATES}/model", headers=headers)).json()
        model = MatchModel.from_dict(body["model"])
        assert (body["version"], body["source"], body["training"]["em"], body["training"]["profiles"]) == (
            1,
            "TRAINED",
            True,
            46,
        )
        assert (model.to_dict() == body["model"], model == MatchModel()) == (True, False)

    async def test_a_scan_that_estimates_chance_agreement_in_a_forked_process_trains_the_same_model(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """The scan process blocks and computes u on other cores (forked children) while it decodes and
        compares, and compares and scores half of the candidates there: the model and the pairs (with
        their probabilities and explanations) are those of a scan that does everything itself."""
        await _population(client, headers, extra=40)
        await scan(services, tenant, min_training_records=20)
        alone = (await client.get(f"{DUPLICATES}/model", headers=headers)).json()
        alone_queue = await queue(client, headers)
        await scan(services, tenant, min_training_records=20, offload=in_forked_process, split_pairs=2)
        forked = (await client.get(f"{DUPLICATES}/model", headers=headers)).json()
        forked_queue = await queue(client, headers)
        assert (forked["version"], forked["model"], pairs_of(forked_queue)) == (
            2,
            alone["model"],
            pairs_of(alone_queue),
        )
        assert _scored(forked_queue) == _scored(alone_queue)
        assert MatchModel.from_dict(forked["model"]).u != MatchModel().u

    async def test_a_function_failing_in_the_forked_process_fails_in_the_caller(self) -> None:
        """Its exception's type comes back as the message; the child is gone."""

        def failing() -> int:
            raise ValueError("not shown")

        with pytest.raises(ForkedFunctionFailed, match="ValueError"):
            await in_forked_process(failing)
        assert await in_forked_process(lambda: 6 * 7) == 42

    async def test_a_forked_function_answers_and_its_child_is_reaped_afterwards(self) -> None:
        """The value comes back as soon as the child sent it; the child, exiting, is joined by a thread of
        its own and no process is left behind."""
        before = {p.pid for p in multiprocessing.active_children()}
        assert await in_forked_process(os.getpid) not in before | {os.getpid()}

        async def all_reaped() -> bool | None:
            alive = {p.pid for p in multiprocessing.active_children()} - before
            return True if not alive else None

        assert await poll(all_reaped, what="the forked child reaped")

    async def test_a_dismissal_refines_the_model(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """The decision is a labelled non-match: the next version is REFINED and its u moved."""
        ids = await _population(client, headers, extra=0)
        before = MatchModel.from_dict((await client.get(f"{DUPLICATES}/model", headers=headers)).json()["model"])
        pair_id = "~".join(sorted((ids["anna"], ids["anna2"])))
        await client.post(f"{DUPLICATES}/{pair_id}/dismiss", json={}, headers=headers)
        body = (await client.get(f"{DUPLICATES}/model", headers=headers)).json()
        after = MatchModel.from_dict(body["model"])
        assert (body["version"], body["source"], after.u != before.u, after.m == before.m) == (
            1,
            "REFINED",
            True,
            True,
        )


class TestSettingsAndAutomaticMerge:
    async def test_thresholds_are_per_tenant_and_guarded_by_their_version(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        """Defaults first (version 0); a PUT stores version 1; a PUT with a stale If-Match is 412."""
        defaults = (await client.get(f"{DUPLICATES}/settings", headers=headers)).json()
        body = {"reviewThreshold": 0.6, "likelyThreshold": 0.95, "autoMerge": False, "autoMergeThreshold": 0.9999}
        stored = await client.put(f"{DUPLICATES}/settings", json=body, headers={**headers, "If-Match": '"0"'})
        stale = await client.put(f"{DUPLICATES}/settings", json=body, headers={**headers, "If-Match": '"0"'})
        assert (defaults["version"], defaults["likelyThreshold"], stored.json()["version"], stale.status_code) == (
            0,
            0.9,
            1,
            412,
        )

    async def test_unordered_thresholds_are_refused(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        """review ≤ likely ≤ automatic merge."""
        body = {"reviewThreshold": 0.9, "likelyThreshold": 0.6, "autoMerge": False, "autoMergeThreshold": 0.999}
        response = await client.put(f"{DUPLICATES}/settings", json=body, headers=headers)
        assert (response.status_code, response.json()["details"]["fields"][0]["field"]) == (400, "likelyThreshold")

    async def test_a_scan_merges_certain_duplicates_when_the_tenant_switched_it_on(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """Above the automatic threshold and with an identifier agreeing exactly, the newer profile is
        merged into the older one (reason AUTO_DUPLICATE); pairs below it stay for review."""
        ids = await _population(client, headers, extra=0)
        body = {"reviewThreshold": 0.5, "likelyThreshold": 0.9, "autoMerge": True, "autoMergeThreshold": 0.9999}
        response = await client.put(f"{DUPLICATES}/settings", json=body, headers=headers)
        assert response.status_code == 200
        job = await scan(services, tenant)
        merged: dict[str, Any] = (await client.get(f"{CUSTOMERS}/{ids['clara2']}", headers=headers)).json()
        assert (job.result["autoMerged"] >= 1, merged["status"], merged["mergedInto"]) == (
            True,
            "MERGED",
            ids["clara"],
        )


class TestScanJobApi:
    async def test_a_scan_started_through_the_api_runs_as_a_job_with_a_status(
        self, client: httpx.AsyncClient, headers: dict[str, str], tenant: str
    ) -> None:
        """202 with the job id and its Location; the job (a `customer360 dedup scan` process) completes."""
        await _population(client, headers, extra=0)
        started = await client.post(f"{DUPLICATES}/scan", headers=headers)
        job_id = started.json()["jobId"]

        async def finished() -> dict[str, Any] | None:
            job: dict[str, Any] = (await client.get(started.headers["location"], headers=headers)).json()
            return None if job["status"] in ("QUEUED", "RUNNING") else job

        status = await poll(finished, what=f"scan job {job_id} finished", every=0.2)
        assert (started.status_code, status["jobId"], status["status"], status["phase"]) == (
            202,
            job_id,
            "COMPLETED",
            "DONE",
        )
        assert (status["result"]["storedPairs"], status["result"]["clusters"]) == (3, 2)

    async def test_a_second_scan_is_refused_while_one_runs(
        self, client: httpx.AsyncClient, headers: dict[str, str], services: Services, tenant: str
    ) -> None:
        """While the tenant's scan lock is held, POST /duplicates/scan is 409 SCAN_IN_PROGRESS."""
        async with services.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            assert await try_lock_scan(connection, tenant)
            response = await client.post(f"{DUPLICATES}/scan", headers=headers)
        assert (response.status_code, response.json()["error"]) == (409, "SCAN_IN_PROGRESS")
