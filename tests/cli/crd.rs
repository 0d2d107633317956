//! The committed CRD must be exactly what the Rust types generate (`make crds` rewrites it).

use std::path::Path;

#[test]
fn committed_crd_matches_the_rust_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/tagwatch.dev_tagwatches.yaml");
    let generated = tagwatch::api::crd_yaml();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date: run `make crds` and commit the result",
        path.display()
    );
}
