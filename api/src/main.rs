//! The `devgraph` binary: everything is in the library; see `cli.rs`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    devgraph::cli::run().await
}
