//! `tagwatch tags`: list the tags of a UHub image, newest first, as a table or JSON.

use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;
use clap::builder::NonEmptyStringValueParser;

use super::exit::{self, Exit};
use super::output::{self, OutputFormat};
use uhub::config::parse_endpoint;
use uhub::{
    ClientConfig, Credentials, DEFAULT_ENDPOINT, DEFAULT_MAX_PAGES, DEFAULT_PAGE_SIZE,
    DEFAULT_REQUEST_TIMEOUT, ImageRef, ListTagsRequest, RetryPolicy, UhubClient,
};

const CREDENTIALS_HELP: &str = "\
Credentials come from the environment, never from flags:
  UCLOUD_PUBLIC_KEY      API public key (required)
  UCLOUD_PRIVATE_KEY     API private key (required)
  UCLOUD_SECURITY_TOKEN  STS security token (optional)";

/// Arguments of `tagwatch tags`.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
#[command(after_help = format!("{CREDENTIALS_HELP}\n\n{}", exit::help_text(&Exit::TAGS)))]
pub struct TagsArgs {
    /// UHub repository (RepoName).
    #[arg(long, value_name = "REPO", value_parser = NonEmptyStringValueParser::new())]
    pub repo: String,

    /// Image in the repository (ImageName).
    #[arg(long, value_name = "IMAGE", value_parser = NonEmptyStringValueParser::new())]
    pub image: String,

    /// UCloud project (ProjectId); the account's default project when omitted.
    #[arg(long, value_name = "ID")]
    pub project_id: Option<String>,

    /// Show only this tag (TagName).
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,

    /// UCloud API endpoint.
    #[arg(long, value_name = "URL", env = "UCLOUD_ENDPOINT", default_value = DEFAULT_ENDPOINT,
          value_parser = endpoint_arg)]
    pub endpoint: String,

    /// Tags asked for per GetImageTag request (Limit).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PAGE_SIZE.get(),
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Time allowed for the whole listing, retries included (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = positive_duration)]
    pub timeout: humantime::Duration,

    /// Retries of throttled or unavailable requests.
    #[arg(long, value_name = "N", default_value_t = RetryPolicy::default().max_retries)]
    pub retries: u32,

    /// Give up after this many pages.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PAGES.get(),
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pages: u32,
}

/// An endpoint URL flag: checked as the client checks it.
pub(crate) fn endpoint_arg(value: &str) -> Result<String, uhub::ConfigError> {
    parse_endpoint(value).map(|_| value.trim().to_string())
}

/// A duration flag that is not a duration, or zero.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DurationArgError {
    /// Zero.
    #[error("must be positive")]
    Zero,
    /// Not a duration.
    #[error("{0} (expected e.g. 30s, 2m, 1h30m)")]
    Invalid(#[from] humantime::DurationError),
}

/// A positive duration flag such as `30s`, `2m` or `1h30m`.
pub(crate) fn positive_duration(value: &str) -> Result<humantime::Duration, DurationArgError> {
    let duration: humantime::Duration = value.parse()?;
    if duration.is_zero() {
        return Err(DurationArgError::Zero);
    }
    Ok(duration)
}

impl TagsArgs {
    fn client_config(&self) -> ClientConfig {
        ClientConfig {
            request_timeout: Duration::from(self.timeout).min(DEFAULT_REQUEST_TIMEOUT),
            retry: RetryPolicy {
                max_retries: self.retries,
                ..RetryPolicy::default()
            },
            ..ClientConfig::with_endpoint(&self.endpoint)
        }
    }

    fn request(&self) -> ListTagsRequest {
        let mut image = ImageRef::new(&self.repo, &self.image);
        image.project_id = self.project_id.clone();
        ListTagsRequest {
            tag_name: self.tag.clone(),
            page_size: NonZeroU32::new(self.page_size).unwrap_or(NonZeroU32::MIN),
            max_pages: NonZeroU32::new(self.max_pages).unwrap_or(NonZeroU32::MIN),
            timeout: Some(self.timeout.into()),
            ..ListTagsRequest::new(image)
        }
    }
}

/// Runs `tagwatch tags`: lists, prints, and maps failures to exit codes.
pub async fn run(args: TagsArgs) -> Exit {
    let credentials = match Credentials::from_env() {
        Ok(credentials) => credentials,
        Err(err) => return super::fail(Exit::Credentials, &err),
    };
    let client = match UhubClient::new(args.client_config()) {
        Ok(client) => client,
        Err(err) => return super::fail(Exit::Usage, &err),
    };
    let listing = match client.list_tags(&credentials, &args.request()).await {
        Ok(listing) => listing,
        Err(err) => return super::fail(Exit::Call(err.kind()), &err),
    };
    if !listing.consistent {
        tracing::warn!(
            tags = listing.tags.len(),
            total_count = listing.total_count,
            "the tag list changed while it was being read; run again for a consistent view"
        );
    }
    super::write_stdout(&output::render(&listing, args.output))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<TagsArgs, clap::Error> {
        let argv = ["tagwatch", "tags"].iter().chain(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Tags(args) => args,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn defaults_and_request() {
        let args = parse(&[
            "--repo",
            "team",
            "--image",
            "web",
            "--endpoint",
            "http://127.0.0.1:1",
        ])
        .unwrap();
        assert_eq!(args.page_size, 100);
        assert_eq!(args.output, OutputFormat::Table);
        assert_eq!(Duration::from(args.timeout), Duration::from_secs(60));
        let request = args.request();
        assert_eq!(request.image, ImageRef::new("team", "web"));
        assert_eq!(request.page_size.get(), 100);
        assert_eq!(request.timeout, Some(Duration::from_secs(60)));
        let config = args.client_config();
        assert_eq!(config.request_timeout, DEFAULT_REQUEST_TIMEOUT);
        assert_eq!(config.retry.max_retries, 3);
    }

    #[test]
    fn every_flag_is_used() {
        let args = parse(&[
            "--repo",
            "team",
            "--image",
            "web",
            "--project-id",
            "org-1",
            "--tag",
            "v1",
            "--endpoint",
            "http://127.0.0.1:1",
            "--page-size",
            "7",
            "--output",
            "json",
            "--timeout",
            "5s",
            "--retries",
            "0",
            "--max-pages",
            "9",
        ])
        .unwrap();
        let request = args.request();
        assert_eq!(request.image.project_id.as_deref(), Some("org-1"));
        assert_eq!(request.tag_name.as_deref(), Some("v1"));
        assert_eq!((request.page_size.get(), request.max_pages.get()), (7, 9));
        assert_eq!(args.output, OutputFormat::Json);
        let config = args.client_config();
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        assert_eq!(config.retry.max_retries, 0);
        assert_eq!(config.endpoint, "http://127.0.0.1:1");
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for bad in [
            &["--repo", "", "--image", "web"][..],
            &["--repo", "team"],
            &["--repo", "team", "--image", "web", "--page-size", "0"],
            &[
                "--repo",
                "team",
                "--image",
                "web",
                "--endpoint",
                "api.ucloud.cn",
            ],
            &["--repo", "team", "--image", "web", "--timeout", "0s"],
            &["--repo", "team", "--image", "web", "--output", "yaml"],
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}
