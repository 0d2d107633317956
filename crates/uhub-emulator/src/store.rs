//! The emulator's registry content: images and their tags, kept newest first with each
//! tag's `TagSet` JSON rendered once, so serving a page only concatenates text; and the
//! order pages are served in ([`TagOrder`]), which the admin API can change.
//!
//! Readers take a snapshot ([`Store::snapshot`], an `Arc` clone under a short read
//! lock) and never hold a lock while serving; writers (the admin API) copy the one
//! image they change and swap in a new catalog.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use sha2::{Digest, Sha256};

use super::fixture::{Fixture, GeneratedImages, TagOrder, UpdateTimeFormat};
use tags::{Tag, sort_newest_first, update_time::format_naive};

/// One tag as served, with its `TagSet` entry pre-rendered.
#[derive(Clone, Debug)]
pub struct StoredTag {
    /// `update_time` is the text rendered for the store's [`UpdateTimeFormat`].
    pub tag: Tag,
    /// Unix seconds of `update_time`.
    pub unix_seconds: i64,
    json: Box<str>,
}

impl StoredTag {
    fn new(name: String, unix_seconds: i64, digest: Option<String>, f: UpdateTimeFormat) -> Self {
        let update_time = render_time(unix_seconds, f);
        let mut entry = json!({ "TagName": name, "UpdateTime": update_time });
        if let Some(digest) = &digest {
            entry["Digest"] = json!(digest);
        }
        let text = match &update_time {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        StoredTag {
            tag: Tag {
                name,
                update_time: text,
                digest,
            },
            unix_seconds,
            json: entry.to_string().into_boxed_str(),
        }
    }

    /// The `TagSet` entry as JSON text.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Renders Unix seconds as an `UpdateTime` JSON value in format `f`.
pub fn render_time(unix_seconds: i64, f: UpdateTimeFormat) -> Value {
    match f {
        UpdateTimeFormat::Datetime => Value::String(format_naive(unix_seconds)),
        UpdateTimeFormat::Unix => Value::from(unix_seconds),
    }
}

/// One image with its tags, newest first.
#[derive(Clone, Debug)]
pub struct Image {
    pub repo: String,
    pub name: String,
    pub project_id: Option<String>,
    /// Unix seconds when the image was loaded or created.
    pub created: i64,
    tags: Vec<StoredTag>,
}

impl Image {
    /// All tags, newest first.
    pub fn tags(&self) -> &[StoredTag] {
        &self.tags
    }

    /// The tag called `name`.
    pub fn tag(&self, name: &str) -> Option<&StoredTag> {
        self.tags.iter().find(|t| t.tag.name == name)
    }

    /// The tags from `offset`, at most `limit` of them, with all of them served in
    /// `order`.
    pub fn page_in(&self, order: TagOrder, offset: usize, limit: usize) -> Vec<&StoredTag> {
        match order {
            TagOrder::Newest => page(&self.tags, offset, limit).iter().collect(),
            TagOrder::Oldest => {
                let count = self.tags.len();
                let start = offset.min(count);
                let end = offset.saturating_add(limit).min(count);
                (start..end).map(|i| &self.tags[count - 1 - i]).collect()
            }
            TagOrder::Name => {
                let mut all: Vec<&StoredTag> = self.tags.iter().collect();
                all.sort_by(|a, b| a.tag.name.cmp(&b.tag.name));
                page(&all, offset, limit).to_vec()
            }
        }
    }

    /// The newest tag, if any.
    pub fn newest(&self) -> Option<&StoredTag> {
        self.tags.first()
    }

    /// When the image last changed: its newest tag's time, else its creation.
    pub fn updated(&self) -> i64 {
        self.tags
            .iter()
            .map(|t| t.unix_seconds)
            .max()
            .unwrap_or(self.created)
    }

    fn with_tags(&self, tags: Vec<StoredTag>) -> Image {
        // Sort with the crate's ordering, then re-attach the rendered entries by name.
        let mut plain: Vec<Tag> = tags.iter().map(|t| t.tag.clone()).collect();
        sort_newest_first(&mut plain);
        let mut by_name: HashMap<String, StoredTag> =
            tags.into_iter().map(|t| (t.tag.name.clone(), t)).collect();
        let sorted = plain
            .iter()
            .filter_map(|t| by_name.remove(&t.name))
            .collect();
        Image {
            tags: sorted,
            ..self.clone_without_tags()
        }
    }

    fn clone_without_tags(&self) -> Image {
        Image {
            repo: self.repo.clone(),
            name: self.name.clone(),
            project_id: self.project_id.clone(),
            created: self.created,
            tags: Vec::new(),
        }
    }
}

/// Image number `i` of `generated`: tags `v1.0.{j}` a minute apart, the newest a
/// minute before `now`, each with a digest derived from its name.
fn generated_image(
    generated: &GeneratedImages,
    i: u32,
    now: i64,
    format: UpdateTimeFormat,
) -> Image {
    let name = generated.image_name(i);
    let count = i64::from(generated.tags);
    // Built newest first, the order the store keeps.
    let tags = (0..generated.tags)
        .rev()
        .map(|j| {
            let tag = format!("v1.0.{j}");
            let digest = Sha256::digest(format!("{}/{name}:{tag}", generated.repo));
            let time = now - 60 * (count - i64::from(j));
            StoredTag::new(tag, time, Some(format!("sha256:{digest:x}")), format)
        })
        .collect();
    Image {
        repo: generated.repo.clone(),
        name,
        project_id: None,
        created: now,
        tags,
    }
}

/// `items[offset..offset + limit]`, clamped to the slice.
pub fn page<T>(items: &[T], offset: usize, limit: usize) -> &[T] {
    let start = offset.min(items.len());
    let end = start.saturating_add(limit).min(items.len());
    &items[start..end]
}

/// An immutable view of every image, keyed by `(repo, image)`.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    images: BTreeMap<(String, String), Arc<Image>>,
}

impl Catalog {
    pub fn image(&self, repo: &str, image: &str) -> Option<&Arc<Image>> {
        self.images.get(&(repo.to_string(), image.to_string()))
    }

    /// Every image, ordered by repo then image name.
    pub fn images(&self) -> impl Iterator<Item = &Arc<Image>> {
        self.images.values()
    }

    /// The images of `repo`, ordered by name.
    pub fn images_of<'a>(&'a self, repo: &'a str) -> impl Iterator<Item = &'a Arc<Image>> {
        self.images.values().filter(move |i| i.repo == repo)
    }
}

/// The result of [`Store::upsert_tag`].
#[derive(Clone, Debug)]
pub struct Upserted {
    /// True when the tag did not exist before.
    pub created: bool,
    pub tag: StoredTag,
}

/// The registry content shared by all requests.
#[derive(Debug)]
pub struct Store {
    format: UpdateTimeFormat,
    /// The [`TagOrder`] pages are served in, as its index in [`ORDERS`].
    order: AtomicU8,
    catalog: RwLock<Arc<Catalog>>,
}

/// Every [`TagOrder`], indexed as [`Store`] keeps it.
const ORDERS: [TagOrder; 3] = [TagOrder::Newest, TagOrder::Oldest, TagOrder::Name];

fn order_index(order: TagOrder) -> u8 {
    ORDERS.iter().position(|o| *o == order).unwrap_or(0) as u8
}

impl Store {
    /// An empty store rendering times in `format`, serving newest first.
    pub fn new(format: UpdateTimeFormat) -> Self {
        Store {
            format,
            order: AtomicU8::new(order_index(TagOrder::Newest)),
            catalog: RwLock::new(Arc::new(Catalog::default())),
        }
    }

    /// The order pages are served in.
    pub fn order(&self) -> TagOrder {
        ORDERS[usize::from(self.order.load(Ordering::Relaxed))]
    }

    /// Serves pages in `order` from now on.
    pub fn set_order(&self, order: TagOrder) {
        self.order.store(order_index(order), Ordering::Relaxed);
    }

    /// A store holding the fixture's images; tags without `updateTime` get `now`.
    /// The fixture must have passed [`Fixture::validate`].
    pub fn from_fixture(fixture: &Fixture, now: i64) -> Self {
        let format = fixture.update_time_format;
        let mut catalog = Catalog::default();
        for image in &fixture.images {
            let base = Image {
                repo: image.repo.clone(),
                name: image.image.clone(),
                project_id: image.project_id.clone(),
                created: now,
                tags: Vec::new(),
            };
            let tags = image
                .tags
                .iter()
                .map(|t| {
                    let secs = t.update_time.as_ref().and_then(|v| v.unix_seconds());
                    StoredTag::new(
                        t.name.clone(),
                        secs.unwrap_or(now),
                        t.digest.clone(),
                        format,
                    )
                })
                .collect();
            let key = (image.repo.clone(), image.image.clone());
            catalog.images.insert(key, Arc::new(base.with_tags(tags)));
        }
        for generated in &fixture.generated {
            for i in 0..generated.count {
                let image = generated_image(generated, i, now, format);
                let key = (image.repo.clone(), image.name.clone());
                catalog.images.insert(key, Arc::new(image));
            }
        }
        Store {
            format,
            order: AtomicU8::new(order_index(fixture.order)),
            catalog: RwLock::new(Arc::new(catalog)),
        }
    }

    pub fn update_time_format(&self) -> UpdateTimeFormat {
        self.format
    }

    /// The current content. Cheap: clones an `Arc`.
    pub fn snapshot(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Creates or replaces tag `name` of `repo/image`, creating the image if needed.
    pub fn upsert_tag(
        &self,
        repo: &str,
        image: &str,
        name: &str,
        unix_seconds: i64,
        digest: Option<String>,
    ) -> Upserted {
        let stored = StoredTag::new(name.to_string(), unix_seconds, digest, self.format);
        let new_image = || Image {
            repo: repo.to_string(),
            name: image.to_string(),
            project_id: None,
            created: unix_seconds,
            tags: Vec::new(),
        };
        let created = self.modify(repo, image, Some(&new_image), |tags| {
            match tags.iter_mut().find(|t| t.tag.name == name) {
                Some(old) => {
                    *old = stored.clone();
                    false
                }
                None => {
                    tags.push(stored.clone());
                    true
                }
            }
        });
        Upserted {
            created: created.unwrap_or(true),
            tag: stored,
        }
    }

    /// Removes tag `name` of `repo/image`; false when there was no such tag.
    /// The image stays, possibly without tags.
    pub fn remove_tag(&self, repo: &str, image: &str, name: &str) -> bool {
        self.modify(repo, image, None, |tags| {
            let before = tags.len();
            tags.retain(|t| t.tag.name != name);
            tags.len() != before
        })
        .unwrap_or(false)
    }

    /// Applies `change` to the tags of `repo/image` under the write lock and swaps in
    /// the new catalog when it reports a change. A missing image is created with
    /// `create`, or left missing (returning `None`) without it.
    fn modify(
        &self,
        repo: &str,
        image: &str,
        create: Option<&dyn Fn() -> Image>,
        change: impl FnOnce(&mut Vec<StoredTag>) -> bool,
    ) -> Option<bool> {
        let mut guard = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        let key = (repo.to_string(), image.to_string());
        let current = match (guard.images.get(&key), create) {
            (Some(current), _) => Image::clone(current),
            (None, Some(create)) => create(),
            (None, None) => return None,
        };
        let mut tags = current.tags.clone();
        let changed = change(&mut tags);
        let mut next = Catalog::clone(&guard);
        next.images.insert(key, Arc::new(current.with_tags(tags)));
        *guard = Arc::new(next);
        Some(changed)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
