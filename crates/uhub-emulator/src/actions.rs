//! The UHub Actions the emulator serves, over the [store](super::store): `GetImageTag`,
//! `GetRepo` and `GetRepoImage`. Each takes authenticated parameters and returns the
//! JSON body of a successful answer.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};

use super::EmulatorState;
use super::error::ApiError;
use super::params::Params;
use super::store::{Image, StoredTag, page, render_time};

/// `Limit` when the request names none.
pub const DEFAULT_LIMIT: usize = 20;

/// `Offset` and `Limit` of a request, `Limit` capped at the fixture's `maxLimit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
}

impl Paging {
    pub fn from_params(params: &Params, max_limit: Option<u32>) -> Result<Self, ApiError> {
        let offset = parse_count(params, "Offset", 0)?;
        let limit = parse_count(params, "Limit", DEFAULT_LIMIT)?;
        if limit == 0 {
            return Err(ApiError::invalid("Limit", "must be at least 1"));
        }
        let cap = max_limit.map_or(usize::MAX, |m| m as usize);
        Ok(Paging {
            offset,
            limit: limit.min(cap),
        })
    }

    fn of<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        page(items, self.offset, self.limit)
    }
}

fn parse_count(params: &Params, name: &'static str, default: usize) -> Result<usize, ApiError> {
    match params.non_empty(name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::invalid(name, format!("{text:?} is not a non-negative integer"))
        }),
    }
}

fn required<'a>(params: &'a Params, name: &'static str) -> Result<&'a str, ApiError> {
    params
        .non_empty(name)
        .ok_or_else(|| ApiError::missing(name))
}

/// Whether a request naming `project` (or the default project) sees `image`.
fn visible(image: &Image, project: Option<&str>) -> bool {
    image.project_id.is_none() || image.project_id.as_deref() == project
}

pub fn get_image_tag(state: &EmulatorState, params: &Params) -> Result<String, ApiError> {
    let repo = required(params, "RepoName")?;
    let image_name = required(params, "ImageName")?;
    let paging = Paging::from_params(params, state.max_limit)?;
    let catalog = state.store.snapshot();
    let Some(image) = catalog.image(repo, image_name) else {
        return Err(if catalog.images_of(repo).next().is_none() {
            ApiError::invalid("RepoName", format!("repo {repo:?} not found"))
        } else {
            ApiError::invalid(
                "ImageName",
                format!("image \"{repo}/{image_name}\" not found"),
            )
        });
    };
    check_project(image, params.non_empty("ProjectId"))?;
    let (total, shown): (usize, Vec<&StoredTag>) = match params.non_empty("TagName") {
        Some(name) => {
            let tags = image
                .tag(name)
                .map(std::slice::from_ref)
                .unwrap_or_default();
            (tags.len(), paging.of(tags).iter().collect())
        }
        None => (
            image.tags().len(),
            image.page_in(state.store.order(), paging.offset, paging.limit),
        ),
    };
    let mut out =
        String::with_capacity(96 + shown.iter().map(|t| t.json().len() + 1).sum::<usize>());
    let _ = write!(
        out,
        r#"{{"Action":"GetImageTagResponse","RetCode":0,"TotalCount":{total},"TagSet":["#
    );
    for (i, tag) in shown.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(tag.json());
    }
    out.push_str("]}");
    Ok(out)
}

fn check_project(image: &Image, project: Option<&str>) -> Result<(), ApiError> {
    let Some(required) = image.project_id.as_deref() else {
        return Ok(());
    };
    let what = format!("image \"{}/{}\"", image.repo, image.name);
    match project {
        None => Err(ApiError::MissingParam {
            name: "ProjectId",
            detail: Some(format!("{what} is in project {required:?}")),
        }),
        Some(project) if project != required => Err(ApiError::invalid(
            "ProjectId",
            format!("{what} is not in project {project:?}"),
        )),
        Some(_) => Ok(()),
    }
}

pub fn get_repo(state: &EmulatorState, params: &Params) -> Result<String, ApiError> {
    let paging = Paging::from_params(params, state.max_limit)?;
    let project = params.non_empty("ProjectId");
    let format = state.store.update_time_format();
    let catalog = state.store.snapshot();
    // repo -> (created, updated), over the images the project sees.
    let mut repos: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for image in catalog.images().filter(|i| visible(i, project)) {
        let entry = repos.entry(&image.repo).or_insert((i64::MAX, i64::MIN));
        entry.0 = entry.0.min(image.created);
        entry.1 = entry.1.max(image.updated());
    }
    let all: Vec<_> = repos.into_iter().collect();
    let set: Vec<Value> = paging
        .of(&all)
        .iter()
        .map(|(name, (created, updated))| {
            json!({
                "RepoName": name,
                "Description": "",
                "IsShared": "false",
                "IsOutSide": "false",
                "CreateTime": render_time(*created, format),
                "UpdateTime": render_time(*updated, format),
            })
        })
        .collect();
    Ok(listing("GetRepoResponse", "RepoSet", all.len(), set))
}

pub fn get_repo_image(state: &EmulatorState, params: &Params) -> Result<String, ApiError> {
    let repo = required(params, "RepoName")?;
    let paging = Paging::from_params(params, state.max_limit)?;
    let project = params.non_empty("ProjectId");
    let format = state.store.update_time_format();
    let catalog = state.store.snapshot();
    if catalog.images_of(repo).next().is_none() {
        return Err(ApiError::invalid(
            "RepoName",
            format!("repo {repo:?} not found"),
        ));
    }
    let all: Vec<_> = catalog
        .images_of(repo)
        .filter(|i| visible(i, project))
        .collect();
    let set: Vec<Value> = paging
        .of(&all)
        .iter()
        .map(|image| {
            json!({
                "RepoName": image.repo,
                "ImageName": image.name,
                "LatestTag": image.newest().map(|t| t.tag.name.as_str()).unwrap_or_default(),
                "PullCount": 0,
                "CreateTime": render_time(image.created, format),
                "UpdateTime": render_time(image.updated(), format),
            })
        })
        .collect();
    Ok(listing("GetRepoImageResponse", "ImageSet", all.len(), set))
}

fn listing(action: &str, set_name: &str, total: usize, set: Vec<Value>) -> String {
    let mut body = json!({ "Action": action, "RetCode": 0, "TotalCount": total });
    body[set_name] = Value::Array(set);
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn paging_defaults_and_caps() {
        let p = Paging::from_params(&params(&[]), None).unwrap();
        assert_eq!(
            p,
            Paging {
                offset: 0,
                limit: DEFAULT_LIMIT
            }
        );
        let p = Paging::from_params(&params(&[("Offset", "7"), ("Limit", "500")]), Some(50));
        assert_eq!(
            p.unwrap(),
            Paging {
                offset: 7,
                limit: 50
            }
        );
        let p = Paging::from_params(&params(&[("Limit", "")]), Some(5)).unwrap();
        assert_eq!(p.limit, 5);
    }

    #[test]
    fn paging_rejects_bad_numbers_naming_the_parameter() {
        for (name, value) in [
            ("Limit", "0"),
            ("Limit", "ten"),
            ("Offset", "-1"),
            ("Offset", "1.5"),
        ] {
            let err = Paging::from_params(&params(&[(name, value)]), None).unwrap_err();
            assert_eq!(err.ret_code(), 230);
            assert!(
                err.to_string()
                    .starts_with(&format!("Params [{name}] not available")),
                "{err}"
            );
        }
    }

    #[test]
    fn pages_slice_within_bounds() {
        let items: Vec<u32> = (0..10).collect();
        let paging = |offset, limit| Paging { offset, limit };
        assert_eq!(paging(0, 3).of(&items), [0, 1, 2]);
        assert_eq!(paging(8, 3).of(&items), [8, 9]);
        assert!(paging(10, 3).of(&items).is_empty());
        assert!(paging(usize::MAX, usize::MAX).of(&items).is_empty());
        assert_eq!(paging(9, usize::MAX).of(&items), [9]);
    }
}
