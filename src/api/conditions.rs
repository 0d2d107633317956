//! The conditions of a TagWatch's status, as Kubernetes conventions and kstatus expect
//! them: each with a CamelCase reason, a message a user can act on and the generation
//! it was computed for. The controller sets `Ready`, `Stalled` and `Reconciling`
//! (`controller::conditions`), notifications set `Notified`, triggers `Triggered`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Condition type: the last poll succeeded and status reflects UHub.
pub const READY: &str = "Ready";
/// Condition type: polling cannot succeed until something changes elsewhere (the spec,
/// the Secret, UHub or UCloud permissions).
pub const STALLED: &str = "Stalled";
/// Condition type: a new TagWatch or generation is being polled; True until that poll's
/// result is written.
pub const RECONCILING: &str = "Reconciling";
/// Reason of `Reconciling=True`.
pub const PROGRESSING: &str = "Progressing";
/// Reason of a successful poll.
pub const SUCCEEDED: &str = "Succeeded";

/// Finds the condition of type `type_`.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Sets (or, with `None`, removes) the condition of type `type_`. `lastTransitionTime`
/// only moves when the condition's status changes.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    value: Option<(bool, &str, &str)>,
    generation: Option<i64>,
    now: &Time,
) {
    let previous = conditions.iter().position(|c| c.type_ == type_);
    let Some((status, reason, message)) = value else {
        if let Some(i) = previous {
            conditions.remove(i);
        }
        return;
    };
    let status = if status { "True" } else { "False" }.to_string();
    let transition = previous
        .map(|i| &conditions[i])
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.clone());
    let condition = Condition {
        type_: type_.to_string(),
        status,
        reason: reason.to_string(),
        message: message.to_string(),
        observed_generation: generation,
        last_transition_time: transition,
    };
    match previous {
        Some(i) => conditions[i] = condition,
        None => conditions.push(condition),
    }
}
