//! `cordon user …` and `cordon token …`: account administration from the operator's shell.

use std::io::Read;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_store::Store;
use cordon_store::accounts::NewUser;
use cordon_store::audit::Actor;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input.
    Add {
        name: String,
        /// commander, investigator, testing_officer, lab, quarantine_site_head, transfer_dispatcher,
        /// checkpoint_officer, hotline_operator, logistics, viewer, admin.
        #[arg(long)]
        role: String,
        /// An area code of the user's jurisdiction (repeat for several).
        #[arg(long = "area", required = true)]
        areas: Vec<String>,
        /// Name shown in the UI (default: the user name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way; it never goes on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
    /// Give an account a new password, read from standard input; its sessions end. This is how
    /// to get into the demo again once its printed passwords are lost.
    Password {
        name: String,
        /// Read the password from standard input (the only way; it never goes on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a bearer API token acting as user NAME; printed once, only its hash is kept.
    Create {
        name: String,
        /// What the token is for (e.g. the lab system's name).
        #[arg(long, default_value = "cli")]
        label: String,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
    /// Revoke a token by its id.
    Revoke {
        id: i64,
        #[command(flatten)]
        db: crate::DatabaseArg,
    },
}

/// A password from standard input, without its line ending.
fn read_password() -> Result<String> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

fn cli_actor() -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Actor::system(&format!("cli:{who}"))
}

pub async fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { name, role, areas, display_name, password_stdin: _, db } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let areas = areas.iter().map(|a| AreaCode::parse(a).with_context(|| format!("--area {a}"))).collect::<Result<Vec<_>>>()?;
            let password = read_password()?;
            let store = crate::open(&db.database).await?;
            for a in &areas {
                if store.area(a).await?.is_none() {
                    bail!("area {a} is not in the area register");
                }
            }
            let user = store
                .create_user(
                    &cli_actor(),
                    NewUser { display_name: display_name.unwrap_or_else(|| name.clone()), username: name, role, areas, password },
                )
                .await?;
            println!("created user {} (id {}, {})", user.username, user.id, user.role.as_str());
            store.close().await;
        }
        UserCommand::Password { name, password_stdin: _, db } => {
            let password = read_password()?;
            let store = crate::open(&db.database).await?;
            if let Err(e) = store.set_password(&cli_actor(), &name, &password).await {
                bail!("{}", e.refusal().map_or_else(|| e.to_string(), cordon_web::i18n::in_english));
            }
            println!("new password set for {name}; their sessions have ended");
            store.close().await;
        }
        UserCommand::List { db } => {
            let store = crate::open(&db.database).await?;
            println!("{:<6} {:<20} {:<22} {:<10} areas", "id", "user", "role", "state");
            for u in store.users().await? {
                let areas: Vec<&str> = u.jurisdiction.areas().iter().map(|a| a.as_str()).collect();
                println!(
                    "{:<6} {:<20} {:<22} {:<10} {}",
                    u.id,
                    u.username,
                    u.role.as_str(),
                    if u.disabled { "disabled" } else { "active" },
                    areas.join(",")
                );
            }
            store.close().await;
        }
    }
    Ok(())
}

pub async fn token(cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { name, label, db } => {
            let store = crate::open(&db.database).await?;
            let (id, secret) = store.create_api_token(&cli_actor(), &name, &label).await?;
            eprintln!("token {id} for {name} ({label}); it is shown only now:");
            println!("{secret}");
            store.close().await;
        }
        TokenCommand::Revoke { id, db } => {
            let store = crate::open(&db.database).await?;
            if store.revoke_api_token(&cli_actor(), id).await? {
                println!("token {id} revoked");
            } else {
                bail!("no live token {id}");
            }
            store.close().await;
        }
    }
    Ok(())
}

/// The demo's accounts: one per role, the commander over the county, others placed as the
/// seed scenario would (a community worker in 徐沟镇, …). Passwords are random and printed
/// once.
pub async fn demo_accounts(store: &Store, county: &AreaCode) -> Result<Vec<(String, Role, String, String)>> {
    let mut out = Vec::new();
    for role in Role::ALL {
        let area = match role {
            // The county's testing and tracing task forces work county-wide, and so does its
            // traffic task force, which mans every checkpoint.
            Role::CheckpointOfficer => county.clone(),
            // The community worker serves 徐沟镇, where the mass round found its pools and the
            // park's contacts live.
            Role::CommunityWorker => county.child(101).unwrap_or_else(|| county.clone()),
            _ => county.clone(),
        };
        let username = format!("demo_{}", role.as_str());
        let mut bytes = [0u8; 6];
        getrandom_fill(&mut bytes)?;
        let password = format!("Cordon-{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        store
            .create_user(
                &Actor::system("demo"),
                NewUser {
                    username: username.clone(),
                    display_name: format!("演示{}", role.label_zh()),
                    role: *role,
                    areas: vec![area.clone()],
                    password: password.clone(),
                },
            )
            .await?;
        out.push((username, *role, password, area.to_string()));
    }
    Ok(out)
}

fn getrandom_fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| anyhow::anyhow!("random source failed: {e}"))
}
