"""The default policy, where a mission first meets it, and how to widen it.

Every run is checked against a `Policy` before any step runs. The default,
`TIER2_POLICY` (what `Policy()` gives), allows at most 5 steps, at most 2 of
them human, of the kinds `runtime` and `human`, and any effect. A mission
that plans more is refused with `AntiFailurePlanningError`, nothing run. A
wider policy is an argument of `run_mission`, `build_workflow`,
`run_workflow` and `drive`; the run records it and its receipt binds it, so
`resume` and `verify` use it without being told.

Run it: `.venv/bin/python examples/wider_policy.py`. `make test` type-checks
this file under `mypy --strict`.
"""

from __future__ import annotations

from stepfold import (
    TIER2_POLICY,
    AntiFailurePlanningError,
    Params,
    Policy,
    StepSpec,
    WorkflowDefinition,
    register_mission,
    resume,
    run_mission,
    verify,
)


def build_onboarding(params: Params) -> WorkflowDefinition:
    """Onboard a new colleague: six steps, two of them a person's."""
    name = params.get("name", "new colleague")
    return WorkflowDefinition(
        id="onboarding",
        steps=[
            StepSpec("account", "runtime", {"operation": "set", "key": "account", "value": name}),
            StepSpec("laptop", "runtime", {"operation": "set", "key": "laptop", "value": "ordered"}),
            StepSpec("badge", "runtime", {"operation": "set", "key": "badge", "value": "printed"}),
            StepSpec("buddy", "human", {"into": "buddy"}),
            StepSpec("welcome", "runtime", {"operation": "append", "key": "log", "value": "welcome mail sent"}),
            StepSpec("sign-off", "human", {"into": "signed_off_by"}),
        ],
    )


register_mission("onboarding", build_onboarding, replace=True)

ONBOARDING_POLICY = Policy(max_steps=6)
"""One step more than the default; still at most 2 human steps."""


def main() -> None:
    """Meet the default policy, then run, resume and verify under a wider one."""
    print("default:", TIER2_POLICY.describe())
    try:
        run_mission("onboarding", params={"name": "grace"})
    except AntiFailurePlanningError as refused:
        print("refused:", refused)
    first = run_mission("onboarding", params={"name": "grace"}, policy=ONBOARDING_POLICY)
    print(first.status, "at", first.pending_step_id, "under", first.policy.describe())
    done = resume(first, {"buddy": "ada", "sign-off": "lin"})  # the recorded policy: no policy= needed
    print(done.status, done.final_state.to_dict())
    print("verify:", verify(done).reason)


if __name__ == "__main__":
    main()
