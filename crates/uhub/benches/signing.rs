//! Benchmark of UCloud request signing (`cargo bench --bench signing`): the parameters
//! of one GetImageTag page request, and the 13-parameter array vector of the SDKs.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use uhub::signature::sign;

const PRIVATE_KEY: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

fn get_image_tag_params() -> Vec<(String, String)> {
    [
        ("Action", "GetImageTag"),
        ("PublicKey", "ucloudsomeone@example.com1296235120854146120"),
        ("RepoName", "team"),
        ("ImageName", "web"),
        ("ProjectId", "org-1a2b3c"),
        ("Offset", "9900"),
        ("Limit", "100"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn array_params() -> Vec<(String, String)> {
    let values = ["foo", "bar", "42"];
    let mut params = vec![("Action".to_string(), "AllocateBackendBatch".to_string())];
    params.extend((0..12).map(|i| (format!("Backends.{i}"), values[i % 3].to_string())));
    params
}

fn signing(c: &mut Criterion) {
    let page = get_image_tag_params();
    c.bench_function("sign GetImageTag page request (7 params)", |b| {
        b.iter(|| sign(black_box(&page), black_box(PRIVATE_KEY)))
    });
    let array = array_params();
    c.bench_function("sign array vector (13 params)", |b| {
        b.iter(|| sign(black_box(&array), black_box(PRIVATE_KEY)))
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
