//! Listing every tag of an image by paging through `GetImageTag`.
//!
//! The server may return fewer items than `Limit`, so `Offset` advances by the number
//! of items that actually came back. Paging stops when `Offset` reaches the latest
//! `TotalCount` or a page comes back empty. When the list shifts while paging (a tag
//! pushed or removed at the front), pages overlap or skip: tags are de-duplicated by
//! name (the latest copy wins) and the listing is marked not consistent. A server that
//! never stops is refused after `max_pages` pages.
//!
//! A consistent listing also says in which order the server served the tags
//! ([`Order`]) and which page holds the newest ones ([`NewestPage`]), for
//! [probes](super::probe).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use super::client::{CallOptions, UhubClient};
use super::credentials::Credentials;
use super::error::Error;
use super::get_image_tag::{GET_IMAGE_TAG, ImageRef, PageQuery};
use super::probe::{NewestPage, Order, Probe};
use super::wire::TagPage;
use tags::{Tag, sort_newest_first};

/// The default `Limit` of each page.
pub const DEFAULT_PAGE_SIZE: NonZeroU32 = NonZeroU32::new(100).unwrap();
/// The default page limit: 100,000 tags at the default page size.
pub const DEFAULT_MAX_PAGES: NonZeroU32 = NonZeroU32::new(1000).unwrap();

/// What [`UhubClient::list_tags`] lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListTagsRequest {
    /// The image.
    pub image: ImageRef,
    /// `TagName`: list this tag only.
    pub tag_name: Option<String>,
    /// `Limit` of each page.
    pub page_size: NonZeroU32,
    /// The most pages fetched before giving up with an [`ErrorKind::TooManyPages`](crate::ErrorKind::TooManyPages) error.
    pub max_pages: NonZeroU32,
    /// Time allowed for the whole listing, retries and rate-limit waits included.
    pub timeout: Option<Duration>,
}

impl ListTagsRequest {
    /// All tags of `image`, with the default page size and page limit, no timeout
    /// beyond the client's per-request timeout.
    pub fn new(image: ImageRef) -> Self {
        ListTagsRequest {
            image,
            tag_name: None,
            page_size: DEFAULT_PAGE_SIZE,
            max_pages: DEFAULT_MAX_PAGES,
            timeout: None,
        }
    }
}

/// The result of listing an image's tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagListing {
    /// Distinct tags, newest first ([`tags::sort_newest_first`]).
    pub tags: Vec<Tag>,
    /// The last `TotalCount` the server reported, or the number of tags if none did.
    pub total_count: u64,
    /// Pages fetched.
    pub pages: u32,
    /// HTTP requests made, retries included.
    pub requests: u32,
    /// False when the list changed while paging (`TotalCount` changed between pages,
    /// or the number of distinct tags differs from it): a tag may have been missed, and
    /// the next listing will see it.
    pub consistent: bool,
    /// How the server ordered the tags ([`Order::Unordered`] when not consistent).
    pub order: Order,
    /// The page a probe fetches to see whether anything changed since this listing;
    /// `None` when the listing was not consistent, the server reported no
    /// `TotalCount`, or the tags span several pages in no known order.
    pub newest_page: Option<NewestPage>,
}

impl UhubClient {
    /// Lists the tags of `request.image`, all pages, newest first.
    pub async fn list_tags(
        &self,
        credentials: &Credentials,
        request: &ListTagsRequest,
    ) -> Result<TagListing, Error> {
        self.list_tags_from(credentials, request, None).await
    }

    /// [`UhubClient::list_tags`], starting from `probe` when it fetched the first page
    /// (offset 0): that page is not asked for again. Its requests are not counted in
    /// the listing's.
    pub async fn list_tags_from(
        &self,
        credentials: &Credentials,
        request: &ListTagsRequest,
        probe: Option<Probe>,
    ) -> Result<TagListing, Error> {
        let mut pager = Pager::new(request.page_size, request.max_pages);
        if let Some(probe) = probe.filter(|p| p.offset == 0) {
            pager.absorb(probe.page);
        }
        let mut requests = 0;
        while let Some(offset) = pager.next_offset()? {
            let page = self
                .page(credentials, request, offset, &mut requests)
                .await?;
            pager.absorb(page);
        }
        Ok(pager.finish(requests))
    }

    /// Fetches the one page `newest` names, for [`NewestPage::matches`]. A full listing
    /// can start from it ([`UhubClient::list_tags_from`]) when it is the first page.
    pub async fn probe(
        &self,
        credentials: &Credentials,
        request: &ListTagsRequest,
        newest: &NewestPage,
    ) -> Result<Probe, Error> {
        let mut requests = 0;
        let page = self
            .page(credentials, request, newest.offset, &mut requests)
            .await?;
        Ok(Probe {
            offset: newest.offset,
            page,
            requests,
        })
    }

    /// One `GetImageTag` page of `request` at `offset`, counting its requests.
    async fn page(
        &self,
        credentials: &Credentials,
        request: &ListTagsRequest,
        offset: u64,
        requests: &mut u32,
    ) -> Result<TagPage, Error> {
        let options = request
            .timeout
            .map_or_else(CallOptions::default, CallOptions::with_timeout);
        let query = PageQuery {
            image: &request.image,
            tag_name: request.tag_name.as_deref(),
            offset,
            limit: request.page_size.get(),
        };
        self.call_counted(
            credentials,
            GET_IMAGE_TAG,
            query.params(),
            options,
            requests,
        )
        .await
    }
}

/// The paging state machine, free of I/O.
#[derive(Debug)]
pub(crate) struct Pager {
    max_pages: u32,
    offset: u64,
    pages: u32,
    total: Option<u64>,
    total_changed: bool,
    done: bool,
    /// How many tags the first page held: the server's page length.
    first_page_len: usize,
    /// Distinct tags in the order served.
    tags: Vec<Tag>,
    index: HashMap<String, usize>,
}

impl Pager {
    pub fn new(page_size: NonZeroU32, max_pages: NonZeroU32) -> Self {
        let expected = page_size.get() as usize;
        Pager {
            max_pages: max_pages.get(),
            offset: 0,
            pages: 0,
            total: None,
            total_changed: false,
            done: false,
            first_page_len: 0,
            tags: Vec::with_capacity(expected),
            index: HashMap::with_capacity(expected),
        }
    }

    /// The `Offset` of the next page, `None` when done, or the refusal to go on.
    pub fn next_offset(&self) -> Result<Option<u64>, Error> {
        if self.done {
            return Ok(None);
        }
        if self.pages >= self.max_pages {
            return Err(Error::too_many_pages(
                GET_IMAGE_TAG,
                self.max_pages,
                self.tags.len(),
                self.total,
            ));
        }
        Ok(Some(self.offset))
    }

    /// Takes in the page fetched at the last offset.
    pub fn absorb(&mut self, page: TagPage) {
        self.pages += 1;
        if self.pages > 1 && page.total_count != self.total {
            self.total_changed = true;
        }
        self.total = page.total_count;
        let returned = page.tags.len() as u64;
        if self.pages == 1 {
            self.first_page_len = page.tags.len();
        }
        if self.pages == 1 && page.total_count.is_some_and(|t| t > returned) {
            let more = page.total_count.unwrap_or(0).min(100_000) as usize;
            self.tags.reserve(more);
            self.index.reserve(more);
        }
        for tag in page.tags {
            match self.index.get(&tag.name) {
                Some(&at) => self.tags[at] = tag,
                None => {
                    self.index.insert(tag.name.clone(), self.tags.len());
                    self.tags.push(tag);
                }
            }
        }
        self.offset += returned;
        self.done = returned == 0 || self.total.is_some_and(|total| self.offset >= total);
    }

    pub fn finish(mut self, requests: u32) -> TagListing {
        let distinct = self.tags.len() as u64;
        let consistent = !self.total_changed && self.total.is_none_or(|t| t == distinct);
        let order = if consistent {
            Order::detect(&self.tags)
        } else {
            Order::Unordered
        };
        let newest_page = match self.total {
            Some(total) if consistent => {
                NewestPage::of(&self.tags, total, self.first_page_len, order)
            }
            _ => None,
        };
        sort_newest_first(&mut self.tags);
        TagListing {
            consistent,
            total_count: self.total.unwrap_or(distinct),
            pages: self.pages,
            requests,
            tags: self.tags,
            order,
            newest_page,
        }
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
