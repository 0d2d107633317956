//! Benchmark of listing 10,000 tags through the client (`cargo bench --bench
//! list_tags`): signing, HTTP round trips over loopback, decoding, de-duplication and
//! sorting, against the scripted test server (on its own thread) serving pages of 100
//! (100 requests) and of 1,000 (10 requests).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use testkit::ucloud_server::{Server, generated_tags, serve_tags};
use uhub::{ImageRef, ListTagsRequest};

const TAGS: u64 = 10_000;

fn listing(c: &mut Criterion) {
    let server = Server::start(serve_tags(generated_tags(TAGS), 1_000));
    let (client, credentials, runtime) = testkit::uhub_client::blocking_client(&server.url);
    let mut group = c.benchmark_group("list_tags");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    for page_size in [100u32, 1_000] {
        let mut request = ListTagsRequest::new(ImageRef::new("team", "web"));
        request.page_size = page_size.try_into().unwrap();
        let name = format!("10000 tags, page size {page_size}");
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let listing = client.list_tags(&credentials, &request).await.unwrap();
                assert_eq!(listing.tags.len(), TAGS as usize);
                listing
            })
        });
    }
    group.finish();
}

criterion_group!(benches, listing);
criterion_main!(benches);
