//! The `tagwatch` binary; everything lives in [`tagwatch::cli`].

/// jemalloc instead of the C library's allocator: in paired runs of the scale
/// benchmark's quiet and push phases (BENCHMARKS.md) it spent about a quarter less CPU
/// per poll, whose allocations are many and short-lived (requests, responses, decoded
/// pages), and held a smaller resident set.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    tagwatch::cli::main()
}
