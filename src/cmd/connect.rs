//! Options shared by commands that talk to a registry, and the client they build.

use std::path::PathBuf;

use anyhow::Context;
use imagenest_client::Client;

/// Default registry address (`imagenest serve` listens there by default).
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8787";

#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Registry URL [default: the `endpoint` file in --data-dir, else http://127.0.0.1:8787].
    #[arg(long, env = "IMAGENEST_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Bearer token [default: the admin token in --data-dir].
    #[arg(long, env = "IMAGENEST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Data directory of a local `imagenest serve`, to find its endpoint and admin token.
    #[arg(long, default_value = ".imagenest")]
    pub data_dir: PathBuf,
}

impl RegistryArgs {
    pub fn endpoint(&self) -> String {
        if let Some(e) = &self.endpoint {
            return e.clone();
        }
        std::fs::read_to_string(self.data_dir.join("endpoint"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| DEFAULT_ENDPOINT.to_string())
    }

    pub fn token(&self) -> anyhow::Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.clone());
        }
        let path = self.data_dir.join("admin-token");
        std::fs::read_to_string(&path)
            .map(|s| s.trim().to_string())
            .with_context(|| {
                format!(
                    "no token: pass --token or set IMAGENEST_TOKEN (no admin token at {})",
                    path.display()
                )
            })
    }

    pub fn client(&self) -> anyhow::Result<Client> {
        let token = self.token()?;
        Ok(Client::new(&self.endpoint(), Some(&token))?)
    }
}

/// `--output text|json` of commands that print data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

impl Output {
    /// Prints `value` as pretty JSON, or as text through `text`.
    pub fn emit<T: serde::Serialize>(
        self,
        value: &T,
        text: impl FnOnce(&T) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        match self {
            Output::Json => print_json(value),
            Output::Text => text(value),
        }
    }
}

/// Prints `value` as pretty JSON.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A single-threaded runtime for client commands.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
