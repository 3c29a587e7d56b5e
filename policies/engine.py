"""The one enforcement point: an action request and the recent executions in, a typed decision out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from policies.durations import spoken
from policies.earned import Records, earned, paused_words
from policies.schema import TIERS, Approvers, Bounds, Policy, Rule, Severity, Tier


@dataclass(frozen=True)
class ActionRequest:
    tool: str
    namespace: str
    target: str  # namespace/kind/name
    requester: str
    severity: Severity | None = None
    replicas: tuple[int, int] | None = None  # (current, requested) for scaling
    deployment: str | None = None
    failure_mode: str | None = None  # the playbook triage's diagnosis named; None: not triage's own proposal
    undo: bool = False  # puts back the target's last change (an action of opsbot's that verification found not fixed)
    cluster: str | None = None  # the cluster acted on (settings kubernetes.clusters); None: no clusters are named


@dataclass(frozen=True)
class Execution:
    tool: str
    target: str
    at: datetime


class Decision(BaseModel):
    """allow, approve (needs approval: who, how many, expiry, self-approval) or deny (why)."""

    outcome: Literal["allow", "approve", "deny"]
    tier: Tier
    severity: Severity
    reason: str
    approvers: Approvers | None = None
    checks: list[str] = []
    rule: int | None = None  # the index of the rule that decided, in the policy's `rules`
    # what a rule with a track record made of it: ran (allowed, earned), shadow (earned, asks: shadow mode), paused
    # (asks: automatic actions are paused; also a plain `decide: allow` rule), unproven (asks: not earned,
    # unreadable, or P0)
    automatic: Literal["ran", "shadow", "paused", "unproven"] | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == "allow"


@dataclass(frozen=True)
class _Usage:
    """What the executions ledger says about one request: its cooldown, the last change of its target, and the
    executions this hour against each budget."""

    cooldown: timedelta | None
    last: Execution | None
    tool_runs: int
    tool_budget: int | None
    target_runs: int
    target_budget: int


_NOBODY = "nobody may approve {tier} actions: policies name no member with an approving role; see docs/policy.md"


def _rank(tier: Tier | None) -> int:
    return -1 if tier is None else TIERS.index(tier)


@dataclass(frozen=True)
class PolicyEngine:
    policy: Policy

    def tier_of(self, tool: str, mutates: bool) -> Tier:
        return self.policy.tools.get(tool, "T1" if mutates else "T0")

    def roles_of(self, identity: str) -> list[str]:
        return self.policy.members.get(identity, [])

    def severity(self, source: Literal["alertmanager", "sentry"], label: str | None) -> Severity:
        table = getattr(self.policy.severities, source)
        return table.get((label or "").lower(), self.policy.severities.default)

    def bounds(self, namespace: str, deployment: str | None) -> Bounds:
        r = self.policy.guards.replicas
        return r.deployments.get(f"{namespace}/{deployment}") or r.namespaces.get(namespace) or r.default

    def decide(self, req: ActionRequest, executions: list[Execution] | None, now: datetime,
               mutates: bool = True, records: Records | None = None, paused: str | None = None) -> Decision:
        """`executions`: the recent executions ledger; None when it could not be read (a dry run says so and does
        not claim the cooldowns and budgets hold). `records`: the verified track records a rule with a
        `track_record` needs (none given: such a rule asks); `paused`: why automatic actions are paused (the kill
        switch), which makes every rule that would allow a mutation ask a person instead, whatever rule it is."""
        tier = self.tier_of(req.tool, mutates)
        severity = req.severity or self.policy.severities.default
        checks: list[str] = []

        def deny(reason: str) -> Decision:
            return Decision(outcome="deny", tier=tier, severity=severity, reason=reason, checks=[*checks, reason])

        if tier == "T0":
            return Decision(outcome="allow", tier=tier, severity=severity, reason="reading is always allowed")
        index, rule = self._rule(tier, severity, req)
        unapprovable = self._unapprovable(tier, rule.approvers if rule else None)
        if unapprovable:  # before anything else: no requester or guard can make it approvable
            return deny(unapprovable)
        roles = self.roles_of(req.requester)
        best = max((_rank(self.policy.roles[r].propose_up_to) for r in roles), default=-1)
        if best < _rank(tier):
            who = f"{req.requester} ({', '.join(roles) or 'no role'})"
            return deny(f"{who} may not request {tier} actions such as {req.tool}")
        checks.append(f"{req.requester} ({', '.join(roles)}) may request {tier}")
        g = self.policy.guards
        if req.namespace in g.protected_namespaces:
            return deny(f"namespace {req.namespace} is protected: opsbot never changes it")
        for freeze in g.freezes:
            if freeze.start <= now < freeze.end and severity not in freeze.except_severities:
                return deny(f"change freeze until {freeze.end:%Y-%m-%d %H:%M} UTC: {freeze.reason}")
        if req.replicas is not None:
            current, wanted = req.replicas
            b = self.bounds(req.namespace, req.deployment)
            if wanted == current:
                return deny(f"{req.target} already has {current} replicas: nothing to change")
            toward = (current > b.max and b.min <= wanted < current) or (current < b.min and current < wanted <= b.max)
            if not b.min <= wanted <= b.max and not toward:  # back toward the range from outside it: allowed
                return deny(f"{wanted} replicas is outside the allowed range {b.min}..{b.max} for {req.target}")
            if abs(wanted - current) > b.max_step:
                return deny(f"{current} → {wanted} changes more than {b.max_step} replicas at once for {req.target}")
            checks.append(f"{current} → {wanted} replicas is {'toward' if toward else 'within'} {b.min}..{b.max}, "
                          f"step ≤ {b.max_step}")
        if executions is None:
            checks.append("cooldowns and hourly budgets not checked: the recent executions could not be read")
        else:
            refusal = self._limits(req, executions, now)
            if refusal:
                return deny(refusal)
            checks.append("an undo of the target's last change: no cooldown; no hourly budget is exceeded" if req.undo
                          else "no cooldown or hourly budget is exceeded")
        if rule is None:
            return deny(f"no rule covers {tier} at {severity} in {req.namespace}")
        if rule.earned:
            automatic, why = earned(rule, req.failure_mode, req.tool, req.namespace, severity, records, paused, now)
            said = f"rule {index + 1}: {why}"
            if automatic == "ran":
                return Decision(outcome="allow", tier=tier, severity=severity, automatic=automatic, rule=index,
                                reason=f"{rule.reason}; {why}, allowed automatically by rule {index + 1}",
                                checks=[*checks, said])
            return Decision(outcome="approve", tier=tier, severity=severity, approvers=rule.approvers,
                            automatic=automatic, rule=index, reason=f"{rule.reason}; {why}", checks=[*checks, said])
        if rule.decide == "allow" and paused:  # the kill switch covers every mutation nobody approves
            return self._paused(tier, severity, index, rule, paused, checks)
        return Decision(outcome=rule.decide, tier=tier, severity=severity, reason=rule.reason,
                        approvers=rule.approvers, checks=[*checks, f"rule: {rule.reason}"], rule=index)

    def _paused(self, tier: Tier, severity: Severity, index: int, rule: Rule, paused: str,
                checks: list[str]) -> Decision:
        """A plain `decide: allow` rule while automatic actions are paused: it asks, like a rule that asks, one
        approval from any role that may approve the tier (the requester's own click counts: a person decides)."""
        why = f"rule {index + 1}: {paused_words(paused)}"
        roles = [name for name, role in self.policy.roles.items() if _rank(role.approve_up_to) >= _rank(tier)]
        approvers = Approvers(roles=roles, count=1, self_approval=True) if roles else None
        refusal = self._unapprovable(tier, approvers) if approvers else _NOBODY.format(tier=tier)
        if refusal:
            return Decision(outcome="deny", tier=tier, severity=severity, reason=f"{why}; {refusal}", rule=index,
                            automatic="paused", checks=[*checks, why, refusal])
        return Decision(outcome="approve", tier=tier, severity=severity, approvers=approvers, automatic="paused",
                        rule=index, reason=f"{rule.reason}; {paused_words(paused)}", checks=[*checks, why])

    def _rule(self, tier: Tier, severity: Severity, req: ActionRequest) -> tuple[int, Rule | None]:
        """The first rule whose `when` matches, and its index."""
        for i, rule in enumerate(self.policy.rules):
            w = rule.when
            if (w.tier is None or tier in w.tier) and (w.severity is None or severity in w.severity) and (
                w.namespace is None or req.namespace in w.namespace) and (w.tool is None or req.tool in w.tool) and (
                w.failure_mode is None or req.failure_mode in w.failure_mode) and (
                w.cluster is None or req.cluster in w.cluster
            ):
                return i, rule
        return -1, None

    def approvers(self, tier: Tier, approvers: Approvers) -> list[str]:
        """The members who could approve an action of this tier under these approvers: a role the rule names
        that reaches the tier, and not a command-line identity where the policy forbids CLI approvals."""
        return sorted(who for who in self.policy.members if self._fits(who, approvers, tier))

    def _unapprovable(self, tier: Tier, approvers: Approvers | None) -> str | None:
        """Why an action sent for approval to these approvers could never be approved (too few possible ones)."""
        if approvers is None:
            return None
        able, need = self.approvers(tier, approvers), approvers.count
        if not able:
            return _NOBODY.format(tier=tier)
        if len(able) < need:
            return (f"{tier} actions here need {need} approvers, but the policy names only {len(able)} "
                    f"({', '.join(able)}); see docs/policy.md")
        return None

    def _cli_refusal(self, identity: str) -> str | None:
        if identity.startswith("cli:") and not self.policy.cli.may_approve:
            return ("the policy forbids approvals from the command line (cli.may_approve: false); "
                    "approve or deny from the action's card in Slack or Telegram")
        return None

    def _usage(self, req: ActionRequest, executions: list[Execution], now: datetime) -> _Usage:
        g = self.policy.guards
        on_target = [e for e in executions if e.target == req.target]
        hour = [e for e in executions if now - e.at < timedelta(hours=1)]
        return _Usage(cooldown=g.cooldowns.get(req.tool) or g.cooldowns.get("default"),
                      last=max(on_target, key=lambda e: e.at) if on_target else None,
                      tool_runs=sum(e.tool == req.tool for e in hour),
                      tool_budget=g.budgets_per_hour.per_tool.get(req.tool),
                      target_runs=sum(e.target == req.target for e in hour),
                      target_budget=g.budgets_per_hour.per_target)

    def _limits(self, req: ActionRequest, executions: list[Execution], now: datetime) -> str | None:
        u = self._usage(req, executions, now)
        undoing = req.undo and u.last is not None and u.last.tool == req.tool  # the cooldown stops repeats, not undos
        if u.cooldown and u.last and now - u.last.at < u.cooldown and not undoing:
            wait = u.cooldown - (now - u.last.at)
            return (f"cooldown: {u.last.tool} ran on {req.target} {spoken(now - u.last.at)} ago; "
                    f"the next change is allowed in {spoken(wait)}")
        if u.tool_budget is not None and u.tool_runs >= u.tool_budget:
            return f"hourly budget: {req.tool} already ran {u.tool_budget} times in the last hour"
        if u.target_runs >= u.target_budget:
            return f"hourly budget: {req.target} already changed {u.target_budget} times in the last hour"
        return None

    def limits(self, req: ActionRequest, executions: list[Execution], now: datetime) -> list[str]:
        """The cooldown and the hourly budgets that apply to `req`, each with its state now, in words (a dry run
        shows them whether or not they refuse)."""
        u = self._usage(req, executions, now)
        if not u.cooldown:
            cooldown = f"cooldown: none for {req.tool}"
        elif u.last is None:
            cooldown = f"cooldown: {spoken(u.cooldown)}; nothing ran on {req.target} in the ledger's window"
        else:
            since, until = now - u.last.at, u.last.at + u.cooldown
            state = (f"refused until {until:%H:%M:%S} UTC" if until > now else "over")
            cooldown = (f"cooldown: last {u.last.tool} of {req.target} {spoken(since)} ago, cooldown "
                        f"{spoken(u.cooldown)} → {state}")
        tool_budget = "no limit" if u.tool_budget is None else f"{u.tool_runs} of {u.tool_budget}"
        return [cooldown, f"budget: {req.tool} {tool_budget} this hour",
                f"budget: {req.target} changed {u.target_runs} of {u.target_budget} times this hour (all tools)"]

    def may_approve(self, identity: str, decision: Decision, requester: str, already: list[str]) -> str | None:
        """None if `identity` may approve; otherwise the reason in a plain sentence."""
        a = decision.approvers
        if a is None:
            return "this action does not take approvals"
        cli = self._cli_refusal(identity)
        if cli:
            return cli
        if identity in already:
            return f"{identity} has already approved this action"
        if identity == requester and not a.self_approval:
            return "the requester may not approve their own action; ask another approver"
        roles = self.roles_of(identity)
        fit = [r for r in roles if r in a.roles and _rank(self.policy.roles[r].approve_up_to) >= _rank(decision.tier)]
        if not fit:
            return (f"{identity} ({', '.join(roles) or 'no role'}) may not approve {decision.tier} actions; "
                    f"approvers: {', '.join(a.roles)}")
        return None

    def may_silence(self, identity: str, labels: dict[str, str], severity: Severity,
                    duration: timedelta | None = None) -> str | None:
        """None if `identity` may acknowledge (no `duration`) or silence these alerts; else the reason."""
        s = self.policy.silences
        roles = self.roles_of(identity)
        if not set(roles) & set(s.roles):
            return (f"{identity} ({', '.join(roles) or 'no role'}) may not acknowledge or silence alerts; the policy "
                    f"allows {', '.join(s.roles) or 'nobody'}")
        if duration is None:
            return None
        never = self.never_silenced(labels, severity)
        if never:
            return never
        if duration > s.max:
            return f"the longest silence the policy allows is {spoken(s.max)}; {spoken(duration)} was asked"
        return None

    def never_silenced(self, labels: dict[str, str], severity: Severity) -> str | None:
        """Why these alerts may never be silenced by anyone, or None."""
        s = self.policy.silences
        if not s.roles:
            return "the policy lets nobody silence alerts (no silences.roles)"
        if severity in s.never_severities:
            return f"{severity} alerts are never silenced (policy silences.never_severities)"
        for never in s.never:  # a label the silence does not match on matches every value: it would catch these
            if all(labels.get(k, v) == v for k, v in never.items()):
                shown = ", ".join(f"{k}={v}" for k, v in never.items())
                return f"alerts with {shown} are never silenced (policy silences.never)"
        return None

    def longest_silence(self) -> timedelta:
        return self.policy.silences.max

    def whatcan(self, identity: str, paused: str | None = None) -> list[str]:
        """Per mutating tool: whether `identity` may request it and approve it, and under which conditions
        (severity, namespace), read from the rules in their order, first match wins (a dry run). `paused`: why
        automatic actions are paused (PauseSwitch.why), when they are: every allow then asks a person."""
        roles = self.roles_of(identity)
        lines = [f"{identity}: roles {', '.join(roles) or '(none)'}; reading (T0) is always allowed"]
        for tool, tier in sorted(self.policy.tools.items(), key=lambda kv: (kv[1], kv[0])):
            rules = _reached([r for r in self.policy.rules if (r.when.tier is None or tier in r.when.tier)
                              and (r.when.tool is None or tool in r.when.tool)])
            human_only = all(r.decide == "deny" for r in rules)
            propose = not human_only and any(
                _rank(self.policy.roles[r].propose_up_to) >= _rank(tier) for r in roles)
            conditions = [_condition(i, r) for i, r in enumerate(rules)]
            yes = [_when(r) or "otherwise" for r in rules if self._approves(identity, r, tier)]
            approve = "yes" if len(yes) == len(rules) else "no" if not yes else f"only {' or '.join(yes)}"
            lines.append(f"  {tool:<22} {tier}  request: {'yes' if propose else 'no'}"
                         f"{' (human-only)' if human_only else ''}  approve: {approve}")
            if not human_only:
                lines += [f"      {c}: {self._rule_line(identity, r, tier, paused)}"
                          for c, r in zip(conditions, rules, strict=True)]
                if rules and _conditional(rules[-1]):
                    lines.append("      otherwise: deny (no rule covers it)")
        protected = self.policy.guards.protected_namespaces
        if protected:
            lines.append(f"  never in the protected namespaces {', '.join(protected)}; cooldowns and hourly "
                         "budgets apply to every change")
        return lines

    def _approves(self, identity: str, rule: Rule, tier: Tier) -> bool:
        return self._fits(identity, rule.approvers, tier)

    def _fits(self, identity: str, a: Approvers | None, tier: Tier) -> bool:
        """Whether a role of `identity` is among these approvers and reaches the tier, and the policy lets the
        identity approve at all (not a command-line one where cli.may_approve is false)."""
        return a is not None and self._cli_refusal(identity) is None and any(
            role in a.roles and _rank(self.policy.roles[role].approve_up_to) >= _rank(tier)
            for role in self.roles_of(identity))

    def _rule_line(self, identity: str, rule: Rule, tier: Tier, paused: str | None) -> str:
        a = rule.approvers
        while_paused = f"; now {paused_words(paused)}" if paused else ""
        if rule.earned and rule.track_record is not None:
            t = rule.track_record
            return (f"allow by track record ({rule.mode or 'shadow'}: {t.min_verified}+ verified, "
                    f"{t.min_success:.0%}+ fixed, no failure within {spoken(t.no_failure_within)}), else ask"
                    + while_paused)
        if rule.decide != "approve" or a is None:
            return f"{rule.decide} ({rule.reason})" + (while_paused if rule.decide == "allow" else "")
        you = "you may approve" if self._approves(identity, rule, tier) else "you may not approve"
        return (f"{a.count} approval(s) from {'/'.join(a.roles)}, "
                f"{'self-approval allowed' if a.self_approval else 'not the requester'}: {you}")


def _conditional(rule: Rule) -> bool:
    """Whether a rule matches only some requests of its tier and tool (a severity, namespace or failure mode)."""
    return bool(rule.when.severity or rule.when.namespace or rule.when.failure_mode or rule.when.cluster)


def _reached(rules: list[Rule]) -> list[Rule]:
    """The rules up to the first one without a severity, namespace or failure-mode condition: those after it never
    match."""
    for i, r in enumerate(rules):
        if not _conditional(r):
            return rules[:i + 1]
    return rules


def _when(rule: Rule) -> str:
    """A rule's conditions besides the tier, in words: 'at P0/P1 in namespace payments'; '' when it has none."""
    w = rule.when
    return " ".join(c for c in (f"at {'/'.join(w.severity)}" if w.severity else "",
                                f"in namespace {'/'.join(w.namespace)}" if w.namespace else "",
                                f"for {'/'.join(w.failure_mode)}" if w.failure_mode else "",
                                f"on cluster {'/'.join(w.cluster)}" if w.cluster else "") if c)


def _condition(i: int, rule: Rule) -> str:
    """When the `i`-th reached rule applies: 'at P0/P1', 'otherwise in namespace payments', 'always'."""
    when = _when(rule)
    return (f"otherwise {when}" if i else when) if when else ("otherwise" if i else "always")
