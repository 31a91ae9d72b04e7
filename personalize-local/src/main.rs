//! The personalize-local command.

use std::io::Write;

use personalize_local::{Config, config::USAGE, start};

#[tokio::main]
async fn main() {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("personalize-local: {e}");
            std::process::exit(2);
        }
    };
    let speed = config.speed;
    let server = match start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("personalize-local: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "personalize-local listening on {} (speed x{speed})",
        server.url()
    );
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
}
