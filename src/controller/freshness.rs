//! Keeps reconciles from acting on a cached TagWatch older than the operator's own last
//! status write.
//!
//! The controller's cache is fed by a watch. When the watch falls behind (an apiserver
//! restart expires it, and the watcher waits out its backoff, up to 30 s, before it
//! lists again), the cached status can predate what this process last wrote. A poll
//! compared with that status would announce tags that were already announced (under
//! another event name when they are listed together with newer tags), and its status
//! write would be refused as a conflict, again and again until the watch recovers.
//!
//! So the resourceVersion each status write returns is remembered, a failed write marks
//! the TagWatch as unknown, and a reconcile whose cached TagWatch is not the one last
//! written reads it from the apiserver first. Once the cache shows the written version,
//! the entry is dropped: later changes by others need no read.
//!
//! The cache also does not hold `status.tags` (the runtime drops them as TagWatches are
//! cached: with long histories they are most of its memory). A reconcile that needs
//! them, to diff a changed tag list with the recorded window or to write a status whose
//! window it did not compute, reads the TagWatch with [`with_tags`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::api::Api;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::api::v1alpha1::TagWatch;

/// Why a TagWatch could not be read as a reconcile needs it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading it failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The stored TagWatch is another version than the cached one (or is gone): what was
    /// decided from the cached one must be decided again.
    #[error("the cached TagWatch (resourceVersion {cached:?}) is not the stored one ({stored:?})")]
    Stale {
        /// The cached version.
        cached: Option<String>,
        /// The stored version; `None` when it is gone.
        stored: Option<String>,
    },
}

/// What this process knows of each TagWatch's last status write.
#[derive(Debug, Default)]
pub struct WrittenVersions {
    /// `Some(version)` after a successful write, `None` after a failed one.
    versions: Mutex<HashMap<ObjectRef<TagWatch>, Option<String>>>,
}

impl WrittenVersions {
    /// Records that a status write of `key` returned `version`.
    pub fn wrote(&self, key: ObjectRef<TagWatch>, version: Option<String>) {
        self.lock().insert(key, version);
    }

    /// Records that a write about `key` failed: it may or may not have been applied, so
    /// the cache cannot be trusted until the TagWatch is read again.
    pub fn write_failed(&self, key: ObjectRef<TagWatch>) {
        self.lock().insert(key, None);
    }

    /// Whether the cached TagWatch `key`, at `cached_version`, may be older than the last
    /// write. Forgets a write the cache has caught up with.
    pub fn cache_lags(&self, key: &ObjectRef<TagWatch>, cached_version: Option<&str>) -> bool {
        let mut versions = self.lock();
        match versions.get(key) {
            None => false,
            Some(Some(written)) if Some(written.as_str()) == cached_version => {
                versions.remove(key);
                false
            }
            Some(_) => true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectRef<TagWatch>, Option<String>>> {
        self.versions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `cached`, or the TagWatch as the apiserver has it when `cached` may be older than the
/// last status write; `None` when it no longer exists.
pub async fn latest(
    kube: &kube::Client,
    written: &WrittenVersions,
    cached: Arc<TagWatch>,
) -> Result<Option<Arc<TagWatch>>, kube::Error> {
    let key = ObjectRef::from_obj(&*cached);
    if !written.cache_lags(&key, cached.meta().resource_version.as_deref()) {
        return Ok(Some(cached));
    }
    let namespace = cached.namespace().unwrap_or_default();
    let api: Api<TagWatch> = Api::namespaced(kube.clone(), &namespace);
    tracing::debug!(%namespace, name = %cached.name_any(), "cached TagWatch may predate the last status write; reading it");
    let fresh = api.get_opt(&cached.name_any()).await?;
    match &fresh {
        Some(fresh) => written.wrote(key, fresh.resource_version()),
        None => {
            written.lock().remove(&key);
        }
    }
    Ok(fresh.map(Arc::new))
}

/// Whether `tw` holds its `status.tags`: one read from the apiserver does, one from the
/// controller's cache does not (unless it tracks no tag, when there is nothing to hold).
pub fn holds_tags(tw: &TagWatch) -> bool {
    tw.status
        .as_ref()
        .is_none_or(|s| !s.tags.is_empty() || s.tag_count.unwrap_or(0) <= 0)
}

/// `tw` with its `status.tags`: `tw` itself when it holds them, else the TagWatch read
/// from the apiserver, which must be the same version.
pub async fn with_tags(kube: &kube::Client, tw: &Arc<TagWatch>) -> Result<Arc<TagWatch>, Error> {
    if holds_tags(tw) {
        return Ok(tw.clone());
    }
    let namespace = tw.namespace().unwrap_or_default();
    let api: Api<TagWatch> = Api::namespaced(kube.clone(), &namespace);
    tracing::debug!(%namespace, name = %tw.name_any(), "reading the TagWatch for its status.tags");
    let stored = api.get_opt(&tw.name_any()).await?;
    let cached = tw.resource_version();
    match stored {
        Some(stored) if stored.resource_version() == cached => Ok(Arc::new(stored)),
        other => Err(Error::Stale {
            cached,
            stored: other.and_then(|s| s.resource_version()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;
    use crate::testing::fixtures::mock_client;

    fn tagwatch(version: &str, latest_tag: &str) -> TagWatch {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "tagwatch.dev/v1alpha1",
            "kind": "TagWatch",
            "metadata": {"name": "web", "namespace": "team", "resourceVersion": version},
            "spec": {"repoName": "team", "imageName": "web"},
            "status": {"latestTag": latest_tag},
        }))
        .unwrap()
    }

    fn key() -> ObjectRef<TagWatch> {
        ObjectRef::from_obj(&tagwatch("1", "v1"))
    }

    #[test]
    fn the_cache_lags_until_it_shows_the_written_version() {
        let written = WrittenVersions::default();
        assert!(
            !written.cache_lags(&key(), Some("1")),
            "nothing written yet"
        );
        written.wrote(key(), Some("2".into()));
        assert!(written.cache_lags(&key(), Some("1")));
        assert!(!written.cache_lags(&key(), Some("2")));
        assert!(
            !written.cache_lags(&key(), Some("3")),
            "once caught up, later versions are others' changes"
        );
    }

    #[test]
    fn after_a_failed_write_the_cache_lags_until_read_again() {
        let written = WrittenVersions::default();
        written.write_failed(key());
        assert!(written.cache_lags(&key(), Some("1")));
        assert!(written.cache_lags(&key(), Some("2")));
        written.wrote(key(), Some("2".into()));
        assert!(!written.cache_lags(&key(), Some("2")));
    }

    #[tokio::test]
    async fn a_current_cache_is_used_without_a_request() {
        let (client, _handle) = mock_client();
        let written = WrittenVersions::default();
        written.wrote(key(), Some("2".into()));
        let cached = Arc::new(tagwatch("2", "v2"));
        let got = latest(&client, &written, cached.clone())
            .now_or_never()
            .expect("no request is made")
            .unwrap()
            .unwrap();
        assert!(Arc::ptr_eq(&got, &cached));
    }

    #[tokio::test]
    async fn a_lagging_cache_is_replaced_by_the_apiserver_s_tagwatch() {
        let (client, mut api) = mock_client();
        let server = tokio::spawn(async move {
            let path = "/apis/tagwatch.dev/v1alpha1/namespaces/team/tagwatches/web";
            let stored = serde_json::to_value(tagwatch("7", "v7")).unwrap();
            api.expect(http::Method::GET, path, 200, stored).await;
        });
        let written = WrittenVersions::default();
        written.wrote(key(), Some("7".into()));
        let got = latest(&client, &written, Arc::new(tagwatch("5", "v5")))
            .await
            .unwrap()
            .unwrap();
        server.await.unwrap();
        assert_eq!(got.meta().resource_version.as_deref(), Some("7"));
        assert_eq!(
            got.status.as_ref().unwrap().latest_tag.as_deref(),
            Some("v7")
        );
        assert!(!written.cache_lags(&key(), Some("7")));
    }
}
