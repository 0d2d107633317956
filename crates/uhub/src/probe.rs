//! Probing an image for changes with one request instead of a full listing.
//!
//! A full listing (see [`super::paging`]) sees the tags in the order UHub serves them.
//! From that order ([`Order::detect`]) follows where the newest tags are: on the first
//! page when UHub serves newest first (as it does), on the last one when it serves
//! oldest first, nowhere in particular otherwise. A listing that was consistent and
//! reported `TotalCount` records that page as a [`NewestPage`]: its offset and a digest
//! of its tags. A probe later fetches only that page ([`UhubClient::probe`](super::UhubClient::probe), in
//! [`super::paging`]) and
//! compares `TotalCount` and the page's digest with the record ([`NewestPage::matches`]):
//! equal means nothing was pushed, pushed again or removed since.
//!
//! Why that suffices, under a known order: UHub gives a pushed tag (new, or pushed again
//! over an existing name) the push time as `UpdateTime`, newer than every tag it already
//! has, so the pushed tag is on the newest page, either as a new name or with a new
//! `UpdateTime` (and digest). A removal without a push lowers `TotalCount`. Any mix of
//! pushes and removals contains a push, or only removals. What a probe cannot see is a
//! change that moves no tag to the front: an older tag's digest or `UpdateTime` changed
//! in place, beyond the newest page. Callers list fully every so often for that.
//!
//! When the whole list fits on one page the probe page is the whole list, whatever the
//! order, and a probe sees every change.
//!
//! Everything here is pure; the request is [`super::paging`]'s.

use super::wire::TagPage;
use tags::Tag;
use tags::revision::revision;

/// How a full listing served the tags, by `UpdateTime`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
pub enum Order {
    /// Newest first: no tag is newer than the one before it (UHub's order).
    NewestFirst,
    /// Oldest first: no tag is older than the one before it.
    OldestFirst,
    /// Neither (say, by name), or no way to tell (fewer than two distinct times).
    Unordered,
}

impl Order {
    /// The order of `tags` as served: newest first when no tag is newer than its
    /// predecessor, oldest first when none is older, unordered otherwise. Ties count as
    /// either; a list whose times are all equal (or that has fewer than two tags) is
    /// [`Order::Unordered`], since it shows neither.
    pub fn detect(tags: &[Tag]) -> Order {
        let mut times = tags.iter().map(Tag::parsed_update_time);
        let Some(mut previous) = times.next() else {
            return Order::Unordered;
        };
        let (mut newer_seen, mut older_seen) = (false, false);
        for time in times {
            match time.cmp(&previous) {
                std::cmp::Ordering::Greater => newer_seen = true,
                std::cmp::Ordering::Less => older_seen = true,
                std::cmp::Ordering::Equal => {}
            }
            if newer_seen && older_seen {
                return Order::Unordered;
            }
            previous = time;
        }
        match (newer_seen, older_seen) {
            (false, true) => Order::NewestFirst,
            (true, false) => Order::OldestFirst,
            _ => Order::Unordered,
        }
    }
}

/// The page a probe fetches, and what it held when recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewestPage {
    /// `Offset` of the page.
    pub offset: u64,
    /// `TotalCount` when it was recorded.
    pub total_count: u64,
    /// [`page_digest`] of its tags.
    pub digest: String,
}

impl NewestPage {
    /// The page holding the newest tags of a full listing, from `served` (every tag in
    /// the server's order) and `page_len` (how many tags the server put on one page),
    /// when a probe can find them again: the whole list on one page, or a known order.
    pub fn of(served: &[Tag], total_count: u64, page_len: usize, order: Order) -> Option<Self> {
        let count = served.len();
        let offset = if count <= page_len {
            0
        } else {
            match order {
                Order::NewestFirst => 0,
                Order::OldestFirst => count - page_len,
                Order::Unordered => return None,
            }
        };
        let end = (offset + page_len).min(count);
        Some(NewestPage {
            offset: offset as u64,
            total_count,
            digest: page_digest(&served[offset..end]),
        })
    }

    /// Whether `page`, fetched at [`NewestPage::offset`], shows the same tags and the
    /// same `TotalCount` as when this was recorded.
    pub fn matches(&self, page: &TagPage) -> bool {
        page.total_count == Some(self.total_count) && page_digest(&page.tags) == self.digest
    }
}

/// A digest of a page's tags as a set: their names, `UpdateTime`s and digests, in any
/// order (the [`revision`] encoding).
pub fn page_digest(tags: &[Tag]) -> String {
    revision(tags)
}

/// The answer to a probe: the page fetched at the probed offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The probed offset.
    pub offset: u64,
    /// The page UHub returned there.
    pub page: TagPage,
    /// HTTP requests made, retries included.
    pub requests: u32,
}

#[cfg(test)]
#[path = "probe_tests.rs"]
mod tests;
