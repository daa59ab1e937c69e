#[tokio::main]
async fn main() {
    let cli = rollprobe::cli::Cli::parse_with_defaults();
    let code = rollprobe::cli::dispatch(cli).await;
    std::process::exit(code);
}
