//! What a person's command or a tick of the rollout job changes, decided from where the
//! rollout stands, without I/O. The backend writes the change only if the rollout still
//! stands where it was read.

use super::{advanced_percent, Command, RolloutState, Step, Tick};

/// Where a rollout stands: what a change starts from.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    pub state: RolloutState,
    pub step: usize,
    pub percent: f64,
    pub step_started_at: i64,
    pub halt_reason: Option<String>,
}

/// Where a rollout will stand, and what its history says about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub action: &'static str,
    pub reason: String,
    pub standing: Standing,
}

/// Why a command cannot apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The input is wrong: the field and what is wrong with it.
    Invalid(&'static str, String),
    /// The rollout's state does not allow it.
    Conflict(String),
}

/// The most a reason may say (it goes to the history and the audit log).
pub const MAX_REASON_CHARS: usize = 1000;

/// A person's command: pause, resume, halt, advance, roll back or set the percent. `reason`
/// is required; `percent` only for `SetPercent`.
pub fn command(
    from: &Standing,
    steps: &[Step],
    command: Command,
    percent: Option<f64>,
    reason: &str,
    by: &str,
    now: i64,
) -> Result<Change, Refusal> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(Refusal::Invalid(
            "reason",
            format!("say why, in 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let state = command.apply(from.state).map_err(Refusal::Conflict)?;
    let mut to = Standing {
        state,
        ..from.clone()
    };
    match command {
        Command::Halt => to.halt_reason = Some(format!("halted by {by}: {reason}")),
        Command::Advance => {
            let next = from.step + 1;
            if next >= steps.len() {
                to.state = RolloutState::Completed;
                to.percent = 100.0;
            } else {
                to.step = next;
                to.percent = advanced_percent(steps, next, from.percent);
                to.step_started_at = now;
            }
        }
        Command::SetPercent => {
            let percent =
                percent.ok_or_else(|| Refusal::Invalid("percent", "is required".into()))?;
            if !(percent > 0.0 && percent <= 100.0) || (percent * 100.0).fract() != 0.0 {
                return Err(Refusal::Invalid(
                    "percent",
                    "must be above 0 and at most 100, with at most two decimals".into(),
                ));
            }
            to.percent = percent;
        }
        Command::Pause | Command::Resume | Command::Rollback => {}
    }
    Ok(Change {
        action: command.as_str(),
        reason: reason.to_string(),
        standing: to,
    })
}

/// What the rollout job's verdict changes; `None` when it changes nothing.
pub fn tick(from: &Standing, steps: &[Step], verdict: Tick, now: i64) -> Option<Change> {
    let to = from.clone();
    Some(match verdict {
        Tick::Nothing => return None,
        Tick::Halt(why) => Change {
            action: "halt",
            reason: format!("automatic halt: {why}"),
            standing: Standing {
                state: RolloutState::Halted,
                halt_reason: Some(why),
                ..to
            },
        },
        Tick::Advance => {
            let next = from.step + 1;
            Change {
                action: "advance",
                reason: format!("step {} held its time and is healthy", from.step + 1),
                standing: Standing {
                    step: next,
                    percent: advanced_percent(steps, next, from.percent),
                    step_started_at: now,
                    ..to
                },
            }
        }
        Tick::Complete => Change {
            action: "complete",
            reason: "the last step held its time and is healthy".into(),
            standing: Standing {
                state: RolloutState::Completed,
                percent: 100.0,
                ..to
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps() -> Vec<Step> {
        [10.0, 50.0, 100.0]
            .into_iter()
            .map(|percent| Step {
                percent,
                hold_minutes: Some(60),
            })
            .collect()
    }

    fn running_at(step: usize, percent: f64) -> Standing {
        Standing {
            state: RolloutState::Running,
            step,
            percent,
            step_started_at: 0,
            halt_reason: None,
        }
    }

    #[test]
    fn advancing_moves_to_the_next_steps_percent_and_restarts_its_hold() {
        let change = command(
            &running_at(0, 10.0),
            &steps(),
            Command::Advance,
            None,
            "looks good",
            "rm",
            500,
        )
        .unwrap();
        assert_eq!(change.action, "advance");
        assert_eq!((change.standing.step, change.standing.percent), (1, 50.0));
        assert_eq!(change.standing.step_started_at, 500);
    }

    #[test]
    fn advancing_past_the_last_step_completes_at_100_percent() {
        let change = command(
            &running_at(2, 100.0),
            &steps(),
            Command::Advance,
            None,
            "done",
            "rm",
            1,
        )
        .unwrap();
        assert_eq!(change.standing.state, RolloutState::Completed);
        assert_eq!(change.standing.percent, 100.0);
    }

    #[test]
    fn a_hand_raised_percent_is_kept_when_advancing() {
        let change = command(
            &running_at(0, 70.0),
            &steps(),
            Command::Advance,
            None,
            "go",
            "rm",
            1,
        )
        .unwrap();
        assert_eq!(change.standing.percent, 70.0);
    }

    #[test]
    fn a_halt_by_a_person_says_who_and_why() {
        let change = command(
            &running_at(0, 10.0),
            &steps(),
            Command::Halt,
            None,
            " bricks ",
            "alice",
            1,
        )
        .unwrap();
        assert_eq!(change.standing.state, RolloutState::Halted);
        assert_eq!(
            change.standing.halt_reason.as_deref(),
            Some("halted by alice: bricks")
        );
        assert_eq!(change.reason, "bricks");
    }

    #[test]
    fn every_command_needs_a_reason_of_at_most_a_thousand_characters() {
        let from = running_at(0, 10.0);
        for reason in ["", "   ", &"x".repeat(1001)] {
            let refused = command(&from, &steps(), Command::Pause, None, reason, "rm", 1);
            assert!(
                matches!(refused, Err(Refusal::Invalid("reason", _))),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn a_percent_is_above_0_at_most_100_with_two_decimals() {
        let from = running_at(0, 10.0);
        let set = |p: Option<f64>| command(&from, &steps(), Command::SetPercent, p, "why", "rm", 1);
        assert_eq!(set(Some(12.5)).unwrap().standing.percent, 12.5);
        for bad in [None, Some(0.0), Some(100.5), Some(1.234)] {
            assert!(
                matches!(set(bad), Err(Refusal::Invalid("percent", _))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_command_the_state_does_not_allow_is_a_conflict() {
        let completed = Standing {
            state: RolloutState::Completed,
            ..running_at(2, 100.0)
        };
        let refused = command(&completed, &steps(), Command::Pause, None, "why", "rm", 1);
        assert!(matches!(refused, Err(Refusal::Conflict(_))));
    }

    #[test]
    fn a_tick_halts_advances_completes_or_changes_nothing() {
        let from = running_at(0, 10.0);
        assert_eq!(tick(&from, &steps(), Tick::Nothing, 1), None);
        let halt = tick(&from, &steps(), Tick::Halt("3 of 5 failed".into()), 1).unwrap();
        assert_eq!(halt.standing.state, RolloutState::Halted);
        assert_eq!(halt.reason, "automatic halt: 3 of 5 failed");
        let advance = tick(&from, &steps(), Tick::Advance, 9).unwrap();
        assert_eq!((advance.standing.step, advance.standing.percent), (1, 50.0));
        assert_eq!(advance.standing.step_started_at, 9);
        let complete = tick(&running_at(2, 100.0), &steps(), Tick::Complete, 9).unwrap();
        assert_eq!(complete.standing.state, RolloutState::Completed);
    }
}
