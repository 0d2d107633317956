//! The `tagwatch` binary; everything lives in [`tagwatch::cli`].

fn main() -> std::process::ExitCode {
    tagwatch::cli::main()
}
