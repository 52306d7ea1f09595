//! Rules: what to do when a release enters or leaves a state.

use super::{Action, ReleaseEvent};
use serde::{Deserialize, Serialize};

/// What a rule does when it fires. The staged-locks work adds its flush action here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleAction {
    /// Sends the event, signed, to one registered webhook (and only to it).
    Webhook { webhook_id: i64 },
}

/// "When a release of `dist` enters (or leaves) `state`, do `action`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRule {
    pub id: i64,
    pub dist: String,
    pub state: String,
    pub on: Action,
    pub action: RuleAction,
    pub active: bool,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReleaseRule {
    pub dist: String,
    pub state: String,
    #[serde(default = "entered")]
    pub on: Action,
    pub action: RuleAction,
}

fn entered() -> Action {
    Action::Entered
}

/// A rule fires on a real change only: entering while out (0-1), or leaving while in (1-0).
pub fn rule_fires(rule_on: Action, event: &ReleaseEvent) -> bool {
    event.action == rule_on && event.was_in_state != event.in_state()
}
