//! The UHub `GetImageTag` action: which image and which page to ask for, and the
//! single-page call. Paging through all pages is in [`super::paging`].

use std::fmt;

use super::client::{CallOptions, UhubClient};
use super::credentials::Credentials;
use super::error::Error;
use super::wire::TagPage;

/// The action name.
pub const GET_IMAGE_TAG: &str = "GetImageTag";

/// A UHub image: repository, image name and optional project.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// `RepoName`.
    pub repo_name: String,
    /// `ImageName`.
    pub image_name: String,
    /// `ProjectId`; `None` (or empty) means the account's default project.
    pub project_id: Option<String>,
}

impl ImageRef {
    /// An image in the default project.
    pub fn new(repo_name: impl Into<String>, image_name: impl Into<String>) -> Self {
        ImageRef {
            repo_name: repo_name.into(),
            image_name: image_name.into(),
            project_id: None,
        }
    }

    /// The same image in project `project_id`.
    pub fn in_project(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.repo_name, self.image_name)?;
        match self.project_id.as_deref().filter(|p| !p.is_empty()) {
            Some(project) => write!(f, " (project {project})"),
            None => Ok(()),
        }
    }
}

/// One `GetImageTag` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageQuery<'a> {
    /// The image.
    pub image: &'a ImageRef,
    /// `TagName`: ask for this tag only.
    pub tag_name: Option<&'a str>,
    /// `Offset`.
    pub offset: u64,
    /// `Limit`.
    pub limit: u32,
}

impl PageQuery<'_> {
    /// The request parameters; unset or empty optional values are not sent.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut params = vec![
            ("RepoName".to_string(), self.image.repo_name.clone()),
            ("ImageName".to_string(), self.image.image_name.clone()),
        ];
        let optional = [
            ("ProjectId", self.image.project_id.as_deref()),
            ("TagName", self.tag_name),
        ];
        for (key, value) in optional {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                params.push((key.to_string(), value.to_string()));
            }
        }
        params.push(("Offset".to_string(), self.offset.to_string()));
        params.push(("Limit".to_string(), self.limit.to_string()));
        params
    }
}

impl UhubClient {
    /// Fetches one page of an image's tags, in the server's order.
    pub async fn get_image_tag_page(
        &self,
        credentials: &Credentials,
        query: &PageQuery<'_>,
        options: CallOptions,
    ) -> Result<TagPage, Error> {
        self.call(credentials, GET_IMAGE_TAG, query.params(), options)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_include_only_what_is_set() {
        let image = ImageRef::new("team", "web");
        let query = PageQuery {
            image: &image,
            tag_name: None,
            offset: 200,
            limit: 100,
        };
        assert_eq!(
            query.params(),
            [
                ("RepoName".to_string(), "team".to_string()),
                ("ImageName".to_string(), "web".to_string()),
                ("Offset".to_string(), "200".to_string()),
                ("Limit".to_string(), "100".to_string()),
            ]
        );
        let image = ImageRef::new("team", "web").in_project("org-1");
        let keys: Vec<String> = PageQuery {
            image: &image,
            tag_name: Some("v1"),
            ..query
        }
        .params()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
        assert_eq!(
            keys,
            [
                "RepoName",
                "ImageName",
                "ProjectId",
                "TagName",
                "Offset",
                "Limit"
            ]
        );
        let empty = ImageRef::new("team", "web").in_project("");
        let query = PageQuery {
            image: &empty,
            tag_name: Some(""),
            ..query
        };
        assert_eq!(query.params().len(), 4);
    }

    #[test]
    fn image_display_names_repo_image_and_project() {
        assert_eq!(ImageRef::new("team", "web").to_string(), "team/web");
        assert_eq!(
            ImageRef::new("team", "web").in_project("org-1").to_string(),
            "team/web (project org-1)"
        );
    }
}
