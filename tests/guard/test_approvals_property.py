"""Random sequences of proposals, approvals, denials, clock jumps and concurrent clicks against real Redis and
the emulated cluster: no mutation ever executes without a valid, unexpired, authorised, single-use approval,
and every execution is in the audit trail."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox import k8s, scenario
from tests.support.doors import SCENARIO, Clock, door_with_clock
from tools.base import Status

PEOPLE = ["slack:U0VIEWER", "slack:U0OPERATOR", "slack:U0LEAD", "slack:U0ADMIN", "telegram:1002", "opsbot:triage"]
APPROVERS = PEOPLE + ["slack:U0LEAD", "slack:U0ADMIN", "telegram:1002"] * 2  # clicks lean towards leads
SEVERITIES = ["P0", "P1", "P2", "P3"]
RAN = {"sequences": 0, "steps": 0, "executions": 0}


def machine(base: Settings, private_k8s: tuple[Path, int]) -> type[RuleBasedStateMachine]:
    class Approvals(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            state, port = private_k8s
            k8s.load(state, port, scenario.load(SCENARIO), Clock()().timestamp())
            self.clock = Clock()
            self.door: Door = door_with_clock(base, self.clock)
            self.peer: Door = door_with_clock(base, self.clock, prefix=self.door.gate.store.prefix)
            self.actions: list[str] = []
            self.replicas = 3
            RAN["sequences"] += 1

        def _current_replicas(self) -> int:
            r = self.door.run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
                              Caller(identity="cli:check"))
            return r.data["replicas"]["desired"]

        def _note(self, verdict_result) -> None:  # a successful scale moves the expected replica count
            if verdict_result is not None and verdict_result.status == Status.success:
                RAN["executions"] += 1
                if verdict_result.tool == "k8s_scale":
                    self.replicas = verdict_result.data["replicas"]

        def _pick(self, pick: int) -> str:  # mostly the newest action, sometimes an older (decided) one
            return self.actions[-1] if pick < 35 else self.actions[pick % len(self.actions)]

        @rule(who=st.sampled_from(PEOPLE), to=st.one_of(st.integers(1, 8), st.integers(-2, 16)), severity=st.sampled_from(SEVERITIES))
        def propose_scale(self, who: str, to: int, severity: str) -> None:
            RAN["steps"] += 1
            r = self.door.run("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": to},
                              Caller(identity=who, severity=severity))
            assert r.status in (Status.approval_required, Status.denied, Status.error)
            if r.status == Status.approval_required:
                self.actions.append(r.data["action_id"])

        @rule(who=st.sampled_from(PEOPLE), severity=st.sampled_from(SEVERITIES))
        def propose_restart(self, who: str, severity: str) -> None:
            RAN["steps"] += 1
            r = self.door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"},
                              Caller(identity=who, severity=severity))
            if r.status == Status.approval_required:
                self.actions.append(r.data["action_id"])

        @rule(pick=st.integers(0, 50), who=st.sampled_from(APPROVERS), approve=st.booleans())
        def click(self, pick: int, who: str, approve: bool) -> None:
            RAN["steps"] += 1
            if self.actions:
                v = self.door.gate.decide(self._pick(pick), who, approve)
                self._note(v.result)

        @rule(pick=st.integers(0, 50), who=st.lists(st.sampled_from(APPROVERS), min_size=2, max_size=6))
        def concurrent_clicks(self, pick: int, who: list[str]) -> None:
            RAN["steps"] += 1
            if not self.actions:
                return
            action_id = self._pick(pick)
            start = threading.Barrier(len(who))
            results = []

            def click(i: int, identity: str) -> None:
                start.wait()
                results.append((self.door if i % 2 else self.peer).gate.decide(action_id, identity, True))

            threads = [threading.Thread(target=click, args=(i, w)) for i, w in enumerate(who)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sum(1 for v in results if v.result is not None) <= 1, "one claim, at most one execution"
            for v in results:
                self._note(v.result)

        @rule(minutes=st.integers(0, 40))
        def clock_jump(self, minutes: int) -> None:
            RAN["steps"] += 1
            self.clock.advance(minutes=minutes)

        @invariant()
        def only_valid_approvals_execute(self) -> None:
            records = self.door.audit.query()
            executions = [r for r in records if r.kind == "execution" and r.status in ("success", "error")]
            executed_ids = [r.summary.split()[0].lstrip("#") for r in executions]
            assert len(executed_ids) == len(set(executed_ids)), "an action executed twice"
            engine = self.door.gate.engine
            for action_id in executed_ids:
                a = self.door.gate.store.get(action_id)
                assert a is not None and a.state in ("executed", "failed")
                approvers = a.decision.approvers
                assert approvers is not None, "every mutation in the sandbox's policy needs an approval"
                assert len(set(a.approvals)) >= approvers.count
                for who in a.approvals:
                    assert engine.may_approve(who, a.decision, a.requester, []) is None, f"{who} was not authorised"
                claims = [r for r in records if r.kind == "approval" and r.status in ("claimed", "recorded")
                          and r.summary.startswith(f"#{action_id} ")]
                assert {r.identity for r in claims} == set(a.approvals)
                assert all(r.at < a.expires_at for r in claims), "an approval after expiry counted"
            assert self._current_replicas() == self.replicas, "the cluster changed without a recorded execution"

    return Approvals


def test_no_mutation_without_a_valid_single_use_approval(
    mutable_settings: Settings, private_k8s: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    run_state_machine_as_test(
        machine(mutable_settings, private_k8s),
        settings=settings(max_examples=60, stateful_step_count=14, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck), database=None),
    )
    with capsys.disabled():
        print(f"\n[approvals property] {RAN['sequences']} sequences, {RAN['steps']} steps, "
              f"{RAN['executions']} executions")
    assert RAN["sequences"] >= 60
    assert RAN["executions"] > 0, "the sequences must reach executions, or they prove nothing"
