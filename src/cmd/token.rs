//! `imagenest token create|list|revoke`: manage bearer tokens of a registry.

use std::process::ExitCode;

use imagenest_core::{
    Role,
    api::{NewToken, TokenKind},
};

use super::connect::{Output, RegistryArgs, print_json, runtime};
use super::table::Table;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a token for an account (created on first use); prints the secret once.
    Create {
        /// Account name (lowercase letters, digits, `_`, `-`).
        #[arg(long)]
        account: String,
        /// Role of the account.
        #[arg(long, value_parser = ["vendor", "customer", "admin"])]
        role: String,
        /// A token valid only on the ROS custom resource endpoint.
        #[arg(long)]
        ros: bool,
        /// Cloud account ID that images are shared with for this account [default: the sim cloud's ID for the name, or the name itself with a real cloud].
        #[arg(long)]
        cloud_account_id: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// List tokens (all for admins, your own otherwise).
    List {
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Revoke a token by ID.
    Revoke {
        /// Token ID (tok-…, as `imagenest token list` shows it), not the secret.
        id: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            Command::Create {
                account,
                role,
                ros,
                cloud_account_id,
                description,
                registry,
                output,
            } => {
                // Invariant: clap only lets the three role names through.
                let role = Role::parse(&role).expect("clap checked the role");
                let kind = if ros { TokenKind::Ros } else { TokenKind::Api };
                let created = registry
                    .client()?
                    .create_token(&NewToken {
                        account,
                        role,
                        kind,
                        cloud_account_id,
                        description,
                    })
                    .await?;
                match output {
                    Output::Json => print_json(&created)?,
                    Output::Text => {
                        eprintln!(
                            "created token {} for account {} ({}); it is shown only now:",
                            created.info.id, created.info.account, created.info.role
                        );
                        println!("{}", created.token);
                    }
                }
            }
            Command::List { registry, output } => {
                let tokens = registry.client()?.list_tokens().await?;
                output.emit(&tokens, |tokens| {
                    let mut t = Table::new(&["ID", "ACCOUNT", "ROLE", "KIND", "CREATED"]);
                    for token in tokens {
                        let kind = if token.kind == TokenKind::Ros {
                            "ros"
                        } else {
                            "api"
                        };
                        t.row([
                            token.id.clone(),
                            token.account.clone(),
                            token.role.to_string(),
                            kind.to_string(),
                            token.created_at.clone(),
                        ]);
                    }
                    print!("{}", t.render());
                    Ok(())
                })?;
            }
            Command::Revoke { id, registry } => {
                registry.client()?.delete_token(&id).await?;
                eprintln!("revoked token {id}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
