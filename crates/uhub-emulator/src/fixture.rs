//! The emulator's fixture file: credentials, paging limit, `UpdateTime` rendering and
//! the images with their tags, read from YAML and checked before anything is served.
//!
//! ```yaml
//! credentials:
//!   - publicKey: "pub-1"
//!     privateKey: "pri-1"
//! maxLimit: 50                 # optional: larger Limit values are capped to this
//! updateTimeFormat: datetime   # optional: datetime (default) | unix
//! order: newest                # optional: newest (default, as UHub) | oldest | name
//! images:
//!   - repo: team
//!     image: web
//!     projectId: org-1         # optional: requests must then name this ProjectId
//!     tags:
//!       - name: v1.0.0
//!         updateTime: "2026-11-01 08:00:00"   # optional, defaults to load time
//!         digest: "sha256:..."                # optional
//! generated:                   # optional: many synthetic images, for load tests
//!   - repo: bench
//!     imagePrefix: img-        # images img-0 .. img-<count-1>
//!     count: 10000
//!     tags: 1000               # tags v1.0.0 .. v1.0.<tags-1>, a minute apart, newest
//!                              # one minute before load time, each with a digest
//! ```
//!
//! Unknown keys are errors, so a misspelt key never silently means "default".

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use tags::UpdateTime;

/// Why a fixture cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The text is not YAML of the fixture's shape, or its content is inconsistent.
    #[error("{origin}: invalid fixture: {message}")]
    Invalid { origin: String, message: String },
}

/// How `UpdateTime` values are rendered in API responses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateTimeFormat {
    /// A JSON string `YYYY-MM-DD HH:MM:SS` in UTC+08:00, e.g. `"2026-11-27 10:00:00"`.
    #[default]
    Datetime,
    /// A JSON number: Unix seconds.
    Unix,
}

/// The order `GetImageTag` serves an image's tags in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagOrder {
    /// Newest `UpdateTime` first, ties by name: UHub's order.
    #[default]
    Newest,
    /// Oldest first: the exact reverse.
    Oldest,
    /// By tag name, ascending, whatever the times.
    Name,
}

/// A time as written in a fixture or an admin request: text in any format
/// [`UpdateTime::parse`] reads, or a number of Unix seconds (or milliseconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeValue {
    Number(i64),
    Text(String),
}

impl TimeValue {
    /// The time as Unix seconds, or `None` when it is not a time.
    pub fn unix_seconds(&self) -> Option<i64> {
        let millis = match self {
            TimeValue::Number(n) => UpdateTime::parse(&n.to_string()).unix_millis(),
            TimeValue::Text(text) => UpdateTime::parse(text).unix_millis(),
        }?;
        Some(millis.div_euclid(1000))
    }

    /// Like [`TimeValue::unix_seconds`], with an error message that says what is accepted.
    pub fn require_unix_seconds(&self) -> Result<i64, String> {
        self.unix_seconds().ok_or_else(|| {
            let shown = match self {
                TimeValue::Number(n) => n.to_string(),
                TimeValue::Text(text) => format!("{text:?}"),
            };
            format!(
                "{shown} is not a time; use \"YYYY-MM-DD HH:MM:SS\" (UTC+08:00), \
                 RFC 3339 or Unix seconds"
            )
        })
    }
}

/// One API key pair. `Debug` never shows the private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credential {
    pub public_key: String,
    pub private_key: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("public_key", &self.public_key)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl Credential {
    pub fn new(public_key: impl Into<String>, private_key: impl Into<String>) -> Self {
        Credential {
            public_key: public_key.into(),
            private_key: private_key.into(),
        }
    }

    /// A random pair `pub-<hex>` / `pri-<hex>`, for an emulator started without a fixture.
    pub fn generate() -> Self {
        let public: [u8; 8] = rand::random();
        let private: [u8; 16] = rand::random();
        Credential::new(
            format!("pub-{}", hex::encode(public)),
            format!("pri-{}", hex::encode(private)),
        )
    }
}

/// One tag of a fixture image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagFixture {
    pub name: String,
    /// Defaults to the time the fixture is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<TimeValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One image (`repo/image`) of a fixture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageFixture {
    pub repo: String,
    pub image: String,
    /// When set, requests for this image must name this `ProjectId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default)]
    pub tags: Vec<TagFixture>,
}

/// A whole fixture file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub credentials: Vec<Credential>,
    /// The largest page served; larger `Limit` values are capped. No cap when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<u32>,
    #[serde(default)]
    pub update_time_format: UpdateTimeFormat,
    /// The order tags are served in; the admin API can change it at run time.
    #[serde(default)]
    pub order: TagOrder,
    #[serde(default)]
    pub images: Vec<ImageFixture>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<GeneratedImages>,
}

/// Many images with synthetic tags, for load tests: `count` images named
/// `{imagePrefix}{i}` in `repo`, each with `tags` tags `v1.0.{j}` one minute apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratedImages {
    pub repo: String,
    pub image_prefix: String,
    pub count: u32,
    pub tags: u32,
}

impl GeneratedImages {
    /// The name of image number `i`.
    pub fn image_name(&self, i: u32) -> String {
        format!("{}{i}", self.image_prefix)
    }
}

impl Fixture {
    /// Reads and checks the fixture file at `path`.
    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks fixture YAML.
    pub fn from_yaml(text: &str) -> Result<Self, FixtureError> {
        Self::parse(text, "fixture")
    }

    fn parse(text: &str, origin: &str) -> Result<Self, FixtureError> {
        let invalid = |message: String| FixtureError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(invalid(
                "the file is empty; it needs at least `credentials`".into(),
            ));
        }
        let fixture: Fixture = serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
        fixture.validate().map_err(invalid)?;
        Ok(fixture)
    }

    /// Checks what the YAML shape cannot: non-empty names, no duplicates, times that parse.
    pub fn validate(&self) -> Result<(), String> {
        if self.credentials.is_empty() {
            return Err("credentials: at least one publicKey/privateKey pair is required".into());
        }
        let mut public_keys = HashSet::new();
        for (i, cred) in self.credentials.iter().enumerate() {
            if cred.public_key.is_empty() || cred.private_key.is_empty() {
                return Err(format!(
                    "credentials[{i}]: publicKey and privateKey must not be empty"
                ));
            }
            if !public_keys.insert(cred.public_key.as_str()) {
                return Err(format!(
                    "credentials[{i}]: publicKey {:?} is listed twice",
                    cred.public_key
                ));
            }
        }
        if self.max_limit == Some(0) {
            return Err("maxLimit: must be at least 1".into());
        }
        let mut images = HashSet::new();
        for (i, image) in self.images.iter().enumerate() {
            let at = format!("images[{i}]");
            image.validate(&at)?;
            if !images.insert((image.repo.as_str(), image.image.as_str())) {
                return Err(format!(
                    "{at}: image \"{}/{}\" is listed twice",
                    image.repo, image.image
                ));
            }
        }
        for (i, generated) in self.generated.iter().enumerate() {
            let at = format!("generated[{i}]");
            if generated.repo.is_empty() || generated.image_prefix.is_empty() {
                return Err(format!("{at}: repo and imagePrefix must not be empty"));
            }
            if let Some(clash) = self.images.iter().find(|image| {
                image.repo == generated.repo && image.image.starts_with(&generated.image_prefix)
            }) {
                return Err(format!(
                    "{at}: image \"{}/{}\" of `images` may clash with the generated names",
                    clash.repo, clash.image
                ));
            }
        }
        Ok(())
    }
}

impl ImageFixture {
    fn validate(&self, at: &str) -> Result<(), String> {
        for (field, value) in [("repo", &self.repo), ("image", &self.image)] {
            if value.is_empty() {
                return Err(format!("{at}.{field}: must not be empty"));
            }
        }
        if self.project_id.as_deref() == Some("") {
            return Err(format!(
                "{at}.projectId: must not be empty (leave it out for the default project)"
            ));
        }
        let mut names = HashSet::new();
        for (j, tag) in self.tags.iter().enumerate() {
            let at = format!("{at}.tags[{j}]");
            if tag.name.is_empty() {
                return Err(format!("{at}.name: must not be empty"));
            }
            if !names.insert(tag.name.as_str()) {
                return Err(format!("{at}: tag {:?} is listed twice", tag.name));
            }
            if let Some(time) = &tag.update_time {
                time.require_unix_seconds()
                    .map_err(|e| format!("{at}.updateTime: {e}"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "fixture_tests.rs"]
mod tests;
