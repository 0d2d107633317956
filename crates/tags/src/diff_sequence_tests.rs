//! The exactly-once property over a history of pushes, deletions and polls, with status
//! (window and count) as the only memory between polls, as across operator restarts.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::super::*;
use crate::sort_newest_first;

/// One step of the registry's history, then maybe a poll.
#[derive(Clone, Debug)]
struct Step {
    /// Indexes (modulo the length) of tags deleted in this step.
    deletions: Vec<usize>,
    /// How many new tags are pushed, each newer than everything before.
    pushes: usize,
    /// Whether the operator polls after this step (it may be down for several steps).
    poll: bool,
}

fn arb_step() -> impl Strategy<Value = Step> {
    (
        prop::collection::vec(any::<usize>(), 0..3),
        0usize..5,
        any::<bool>(),
    )
        .prop_map(|(deletions, pushes, poll)| Step {
            deletions,
            pushes,
            poll,
        })
}

/// Status as the controller records it.
struct Status {
    window: Vec<Tag>,
    tag_count: usize,
}

impl Status {
    fn record(current: &[Tag], limit: usize) -> Status {
        let snapshot = Snapshot::record(current, limit);
        Status {
            window: snapshot.window.to_vec(),
            tag_count: snapshot.tag_count,
        }
    }
}

proptest! {
    #[test]
    fn every_pushed_tag_is_announced_exactly_once(
        initial in 0usize..30,
        limit in 1usize..8,
        steps in prop::collection::vec(arb_step(), 1..25),
    ) {
        let mut clock = 1_700_000_000u64;
        let mut next_name = 0usize;
        let mut push = |registry: &mut Vec<Tag>| {
            clock += 1;
            next_name += 1;
            let name = format!("t{next_name}");
            registry.push(Tag { name: name.clone(), update_time: clock.to_string(), digest: None });
            name
        };
        let mut registry = Vec::new();
        for _ in 0..initial {
            push(&mut registry);
        }
        sort_newest_first(&mut registry);
        let first = diff(None, &registry);
        prop_assert!(first.initial && first.added.is_empty());
        let mut status = Status::record(&registry, limit);
        let mut announced = BTreeSet::new();
        let mut pushed_since_poll = BTreeSet::new();
        for step in steps {
            for index in step.deletions {
                if !registry.is_empty() {
                    let len = registry.len();
                    registry.remove(index % len);
                }
            }
            for _ in 0..step.pushes {
                pushed_since_poll.insert(push(&mut registry));
            }
            sort_newest_first(&mut registry);
            if !step.poll {
                continue;
            }
            let previous = Snapshot { window: &status.window, tag_count: status.tag_count };
            let changes = diff(Some(previous), &registry);
            let added: BTreeSet<String> = changes.added.iter().map(|t| t.name.clone()).collect();
            let expected: BTreeSet<String> = registry
                .iter()
                .map(|t| t.name.clone())
                .filter(|n| pushed_since_poll.contains(n))
                .collect();
            prop_assert_eq!(&added, &expected);
            for name in added {
                prop_assert!(announced.insert(name.clone()), "{} announced twice", name);
            }
            prop_assert!(changes.updated.is_empty());
            pushed_since_poll.clear();
            status = Status::record(&registry, limit);
        }
    }
}
