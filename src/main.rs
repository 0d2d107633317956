//! The `tagwatch` binary; everything lives in [`tagwatch::cli`].

/// mimalloc instead of glibc's malloc: a quiet poll allocates and frees many small
/// buffers (request, response, status), and glibc's `malloc`/`free` were about a seventh
/// of its CPU; with mimalloc a quiet poll costs about 12% less at the same RSS
/// (BENCHMARKS.md, "Where a quiet poll's CPU goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tagwatch::cli::main()
}
