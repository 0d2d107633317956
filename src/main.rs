//! The `tagwatch` binary; everything lives in [`tagwatch::cli`].

/// jemalloc instead of the C library's allocator: a poll's allocations are many and
/// short-lived (requests, responses, decoded pages), and at 10,000 TagWatches the scale
/// benchmark spent a third less CPU per poll with it, at about the same resident set
/// (BENCHMARKS.md, "jemalloc, and one worker thread").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    tagwatch::cli::main()
}
