//! The `devgraph` binary: everything is in the library; see `cli.rs`.

/// A response is built from many small allocations on every worker thread;
/// mimalloc's per-thread heaps serve them with less contention and copying
/// than the system allocator (see the README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    devgraph::cli::run().await
}
