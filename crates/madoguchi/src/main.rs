//! The `madoguchi` command. See `madoguchi --help`.

/// jemalloc instead of the system allocator: glibc's keeps freed memory in
/// per-thread arenas, so a node's resident set kept growing under load; with
/// jemalloc it returns to about 200 MB between bursts (docs/PERFORMANCE.md,
/// Memory).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    madoguchi::cli::main()
}
