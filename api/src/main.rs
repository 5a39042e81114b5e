//! The `devgraph` binary: everything is in the library; see `cli.rs`.

/// A response is built from many small allocations on every worker thread;
/// mimalloc's per-thread heaps serve them with less contention and copying
/// than the system allocator (see the README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Async worker threads per core. Building a large answer is CPU work
/// between awaits; with one worker per core, a few Dashboards hold every
/// worker and a quiet tenant's small request waits for one to yield. With
/// more threads than cores the kernel shares the cores among them instead:
/// beside a noisy tenant, a quiet one's lookups went from p50 5.6–6.3 ms,
/// p99 40–49 ms to p50 3.1 ms, p99 30 ms (bench/budgets.sh, bench/README.md).
const WORKERS_PER_CORE: usize = 4;

fn main() -> std::process::ExitCode {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    // TOKIO_WORKER_THREADS, when set, is the operator's choice.
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        runtime.worker_threads(cores * WORKERS_PER_CORE);
    }
    match runtime.build() {
        Ok(runtime) => runtime.block_on(devgraph::cli::run()),
        Err(err) => {
            eprintln!("devgraph: cannot start the async runtime: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
