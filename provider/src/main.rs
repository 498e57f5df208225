//! terraform-provider-imagenest: the Terraform provider binary (plugin protocol 6).
//!
//! Started by terraform; prints only the go-plugin handshake on stdout and logs to
//! stderr, at debug level only when TF_LOG (or TF_LOG_PROVIDER) asks for it.

use imagenest_provider::plugin;
use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(e) = plugin::check_environment() {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    init_logging();
    plugin::serve_blocking("terraform-provider-imagenest")
}

fn init_logging() {
    let wanted = ["TF_LOG_PROVIDER_IMAGENEST", "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .find_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off"))
        });
    let filter = match wanted.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("trace") => "imagenest_provider=trace,imagenest_client=debug,warn",
        Some("debug") | Some("json") => "imagenest_provider=debug,imagenest_client=debug,warn",
        Some("info") => "imagenest_provider=info,warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .init();
}
