use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = rollprobe::cli::Cli::parse();
    let code = rollprobe::cli::dispatch(cli).await;
    std::process::exit(code);
}
