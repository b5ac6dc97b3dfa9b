//! Accounts: users with argon2 password hashes, roles whose permissions are data, server-side
//! sessions, and bearer API tokens (only hashes stored). Every change is audited in its own
//! transaction.

use std::collections::BTreeSet;
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use cordon_domain::AreaCode;
use cordon_domain::access::{Jurisdiction, Permission, Role, check_password};
use cordon_domain::throttle::{Scope, Tally};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::BeginWrite as _;
use crate::audit::{Actor, Append, Change};
use crate::{Result, Store, StoreError, bind_all, with_read_pool, with_write_pool};

/// A user account as stored (no password hash).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub jurisdiction: Jurisdiction,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A signed-in caller: the user and what their role may do now.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user: User,
    pub permissions: BTreeSet<Permission>,
}

impl Principal {
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub areas: Vec<AreaCode>,
    pub password: String,
}

/// What an administrator changes on an account: its name as shown, its role and its areas.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub display_name: String,
    pub role: Role,
    pub areas: Vec<AreaCode>,
}

/// A bearer token as listed: who it acts as, its label, when it was made and revoked (never its
/// secret, which is shown once when made).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    password_hash: String,
    disabled: bool,
    created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, username, display_name, role, password_hash, disabled, created_at";

/// The answer to a sign-in.
#[derive(Debug)]
pub enum SignIn {
    Welcome(Principal),
    /// A wrong name or password, or a disabled account: which, is not said.
    Wrong,
    /// Too many failures: try again in this many minutes.
    Locked {
        minutes: i64,
    },
}

/// A random secret of 32 bytes, hex-encoded (session ids and API tokens).
fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Task(format!("random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Secrets are high-entropy, so a fast hash suffices; only the hash is stored.
fn secret_hash(secret: &str) -> String {
    // In lower-case hex, written digit by digit: every API request hashes its token.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(secret.as_bytes()) {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

fn valid_username(name: &str) -> Result<()> {
    // The first character a letter or digit: a name such as `..` would vanish from a page's
    // address (browsers collapse dot segments).
    let ok = (2..=40).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok { Ok(()) } else { Err(refused!("refused.user_name_invalid")) }
}

impl Store {
    /// The names people know these accounts by (display names), by sign-in name; accounts not
    /// found are left out.
    pub(crate) async fn display_names(&self, usernames: &[&str]) -> Result<std::collections::HashMap<String, String>> {
        self.names_by_key("SELECT username, display_name FROM users WHERE username IN", usernames).await
    }

    /// Gives every role without permissions in the store its default set (run at start-up).
    pub async fn seed_role_permissions(&self) -> Result<()> {
        let present: Vec<(String,)> =
            with_read_pool!(self, pool => sqlx::query_as("SELECT DISTINCT role FROM role_permissions").fetch_all(pool).await?);
        let present: BTreeSet<String> = present.into_iter().map(|(r,)| r).collect();
        let rows = Role::ALL
            .iter()
            .filter(|r| !present.contains(r.as_str()))
            .flat_map(|r| {
                r.default_permissions().iter().map(|p| vec![crate::Param::Text(r.as_str().into()), crate::Param::Text(p.as_str().into())])
            })
            .collect();
        self.insert_rows("role_permissions", &["role", "permission"], rows, " ON CONFLICT DO NOTHING").await
    }

    /// What a role may do, as the store says now.
    pub async fn role_permissions(&self, role: Role) -> Result<BTreeSet<Permission>> {
        let rows: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT permission FROM role_permissions WHERE role = $1").bind(role.as_str()).fetch_all(pool).await?);
        Ok(rows.into_iter().filter_map(|(p,)| p.parse().ok()).collect())
    }

    /// Replaces a role's permissions (audited).
    pub async fn set_role_permissions(&self, actor: &Actor, role: Role, permissions: &BTreeSet<Permission>) -> Result<()> {
        self.callers.clear();
        let before: Vec<&str> = self.role_permissions(role).await?.iter().map(|p| p.as_str()).collect();
        let after: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        let change = Change::new("update", "role", role.as_str()).before(serde_json::json!(before)).after(serde_json::json!(after));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM role_permissions WHERE role = $1").bind(role.as_str()).execute(&mut *tx).await?;
            for p in permissions {
                sqlx::query("INSERT INTO role_permissions (role, permission) VALUES ($1, $2)")
                    .bind(role.as_str()).bind(p.as_str()).execute(&mut *tx).await?;
            }
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        // Forgotten again once the change is committed: a caller read meanwhile is not kept.
        self.callers.clear();
        Ok(())
    }

    /// Creates an account after checking the user name and the password rules (audited).
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        valid_username(&new.username)?;
        check_password(&new.password, &new.username).map_err(|e| StoreError::from(cordon_domain::refusal::Refusal::from(e)))?;
        if new.areas.is_empty() {
            return Err(refused!("refused.user_needs_area"));
        }
        if self.user_by_name(&new.username).await?.is_some() {
            return Err(refused!("refused.user_name_taken", name = new.username));
        }
        let hash = hash_password(new.password.clone()).await?;
        let jurisdiction = Jurisdiction::new(new.areas);
        let now = Utc::now();
        let id: i64 = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO users (username, display_name, role, password_hash, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING id",
            )
            .bind(&new.username).bind(&new.display_name).bind(new.role.as_str()).bind(&hash).bind(now)
            .fetch_one(&mut *tx).await?;
            for a in jurisdiction.areas() {
                sqlx::query("INSERT INTO user_areas (user_id, area_code) VALUES ($1, $2)").bind(id).bind(a.as_str()).execute(&mut *tx).await?;
            }
            let change = Change::new("create", "user", id).after(serde_json::json!({
                "username": new.username, "display_name": new.display_name, "role": new.role.as_str(),
                "areas": jurisdiction.areas().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            }));
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok(User {
            id,
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            jurisdiction,
            disabled: false,
            created_at: now,
        })
    }

    async fn user_from_row(&self, row: UserRow) -> Result<User> {
        let areas: Vec<(String,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT area_code FROM user_areas WHERE user_id = $1 ORDER BY area_code").bind(row.id).fetch_all(pool).await?);
        Ok(User {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role: row.role.parse().map_err(StoreError::Corrupt)?,
            jurisdiction: Jurisdiction::new(areas.into_iter().filter_map(|(a,)| AreaCode::parse(&a).ok()).collect()),
            disabled: row.disabled,
            created_at: row.created_at,
        })
    }

    async fn user_row(&self, clause: &str, param: crate::Param) -> Result<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        Ok(with_read_pool!(self, pool =>
            bind_all(sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str())), [param].iter()).fetch_optional(pool).await?))
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        match self.user_row("id = $1", crate::Param::Int(id)).await? {
            Some(row) => Ok(Some(self.user_from_row(row).await?)),
            None => Ok(None),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        match self.user_row("username = $1", crate::Param::Text(username.to_string())).await? {
            Some(row) => Ok(Some(self.user_from_row(row).await?)),
            None => Ok(None),
        }
    }

    /// Every account, by user name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows: Vec<UserRow> =
            with_read_pool!(self, pool => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.user_from_row(r).await?);
        }
        Ok(out)
    }

    async fn principal(&self, row: UserRow) -> Result<Option<Principal>> {
        if row.disabled {
            return Ok(None);
        }
        let user = self.user_from_row(row).await?;
        let permissions = self.role_permissions(user.role).await?;
        Ok(Some(Principal { user, permissions }))
    }

    /// The principal of an enabled account by name, for a channel that is trusted by where it
    /// listens (the MLLP listener records results as one lab account).
    pub async fn principal_by_name(&self, username: &str) -> Result<Option<Principal>> {
        match self.user_row("username = $1", crate::Param::Text(username.to_string())).await? {
            Some(row) => self.principal(row).await,
            None => Ok(None),
        }
    }

    /// Checks a user name and password; `None` when either is wrong or the account is disabled.
    /// An unknown name takes as long as a wrong password (a decoy hash is checked instead).
    pub async fn verify_login(&self, username: &str, password: &str) -> Result<Option<Principal>> {
        let row = self.user_row("username = $1", crate::Param::Text(username.to_string())).await?;
        if !password_matches(row.as_ref().map(|r| r.password_hash.clone()), password).await? {
            return Ok(None);
        }
        match row {
            Some(row) => self.principal(row).await,
            None => Ok(None),
        }
    }

    /// Signs in from `addr` (the client's address): refused while a lock holds
    /// ([`cordon_domain::throttle`]); a failure is counted, and a lock it sets is audited; a
    /// success forgets the failures of this account from this address and remembers the address
    /// as one the account uses.
    pub async fn sign_in(&self, username: &str, password: &str, addr: &str) -> Result<SignIn> {
        let username = username.trim();
        let now = Utc::now();
        let row = self.user_row("username = $1", crate::Param::Text(username.to_string())).await?;
        let familiar = match &row {
            Some(r) => {
                with_read_pool!(self, pool => sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM login_addresses WHERE user_id = $1 AND addr = $2",
            ).bind(r.id).bind(addr).fetch_one(pool).await?)
                    > 0
            }
            None => false,
        };
        let scopes: Vec<Scope> = Scope::ALL.into_iter().filter(|s| s.applies(familiar)).collect();
        let locked = |tallies: &[(Scope, Option<Tally>)]| tallies.iter().filter_map(|(_, t)| t.and_then(|t| t.blocked(now))).max();
        if let Some(minutes) = locked(&self.login_tallies(&scopes, username, addr).await?) {
            return Ok(SignIn::Locked { minutes });
        }
        let user_id = row.as_ref().map(|r| r.id);
        let principal = match password_matches(row.as_ref().map(|r| r.password_hash.clone()), password).await? {
            true => match row {
                Some(row) => self.principal(row).await?,
                None => None,
            },
            false => None,
        };
        if let Some(p) = principal {
            let pair = Scope::Pair.key(username, addr);
            with_write_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                sqlx::query("DELETE FROM login_failures WHERE scope = $1 AND key = $2").bind(Scope::Pair.as_str()).bind(&pair)
                    .execute(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO login_addresses (user_id, addr, last_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, addr) DO UPDATE SET last_at = excluded.last_at",
                ).bind(p.user.id).bind(addr).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
            });
            return Ok(SignIn::Welcome(p));
        }
        // A failure: counted under each scope, one sign-in at a time (read again under the lock:
        // a guess made in parallel may have set a lock meanwhile); a lock it sets is recorded.
        let _counting = self.sign_ins.lock().await;
        let tallies = self.login_tallies(&scopes, username, addr).await?;
        if let Some(minutes) = locked(&tallies) {
            return Ok(SignIn::Locked { minutes });
        }
        // Whoever typed the password is not known: the attempt is the actor, from its address.
        let actor = Actor { user_id: None, name: "sign_in".to_string(), request_id: None, client_addr: Some(addr.to_string()) };
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for (scope, prev) in &tallies {
                let (t, locks) = Tally::after_failure(*prev, *scope, now);
                sqlx::query(
                    "INSERT INTO login_failures (scope, key, failures, since, locked_until) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, since = excluded.since, \
                     locked_until = excluded.locked_until",
                )
                .bind(scope.as_str()).bind(scope.key(username, addr)).bind(i64::from(t.failures)).bind(t.since).bind(t.locked_until)
                .execute(&mut *tx).await?;
                if locks {
                    let change = Change {
                        action: "lockout".into(),
                        entity: "session".into(),
                        entity_id: user_id.map(|id| id.to_string()),
                        ..Default::default()
                    }
                    .after(serde_json::json!({
                        "scope": scope.as_str(), "username": username, "address": addr, "until": t.locked_until,
                    }));
                    tx.append(&actor, &change).await?;
                }
            }
            tx.commit().await?;
        });
        Ok(SignIn::Wrong)
    }

    /// The stored failure counts of a sign-in under each scope.
    async fn login_tallies(&self, scopes: &[Scope], username: &str, addr: &str) -> Result<Vec<(Scope, Option<Tally>)>> {
        let keys: Vec<(Scope, String)> = scopes.iter().map(|s| (*s, s.key(username, addr))).collect();
        let wanted: Vec<String> = (0..keys.len()).map(|i| format!("(scope = ${} AND key = ${})", 2 * i + 1, 2 * i + 2)).collect();
        let sql = format!("SELECT scope, key, failures, since, locked_until FROM login_failures WHERE {}", wanted.join(" OR "));
        let params: Vec<crate::Param> =
            keys.iter().flat_map(|(s, k)| [crate::Param::Text(s.as_str().to_string()), crate::Param::Text(k.clone())]).collect();
        let rows: Vec<TallyRow> = with_read_pool!(self, pool =>
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), params.iter()).fetch_all(pool).await?);
        let out =
            keys.into_iter()
                .map(|(scope, key)| {
                    let tally = rows.iter().find(|r| r.0 == scope.as_str() && r.1 == key).map(|(_, _, failures, since, locked_until)| {
                        Tally { failures: u32::try_from(*failures).unwrap_or(u32::MAX), since: *since, locked_until: *locked_until }
                    });
                    (scope, tally)
                })
                .collect();
        Ok(out)
    }

    /// Starts a server-side session; returns the secret for the cookie (only its hash is kept).
    /// Sessions idle for longer than `idle` are removed on the way.
    pub async fn create_session(&self, user_id: i64, idle: Duration) -> Result<String> {
        let secret = new_secret()?;
        let now = Utc::now();
        let oldest = now - chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::hours(8));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1").bind(oldest).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
                .bind(secret_hash(&secret)).bind(user_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(secret)
    }

    /// The caller of a session that has been used within `idle`; refreshes its last use.
    /// Expired sessions are removed.
    pub async fn session_principal(&self, secret: &str, idle: Duration) -> Result<Option<Principal>> {
        let hash = secret_hash(secret);
        let now = Utc::now();
        let oldest = now - chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::hours(8));
        let found: Option<(i64, DateTime<Utc>)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT user_id, last_seen_at FROM sessions WHERE token_hash = $1").bind(&hash).fetch_optional(pool).await?);
        let Some((user_id, last_seen)) = found else { return Ok(None) };
        if last_seen < oldest {
            self.end_session(secret).await?;
            return Ok(None);
        }
        // Refresh at most once a minute: a busy page does not write on every request.
        if now - last_seen > chrono::Duration::minutes(1) {
            with_write_pool!(self, pool => {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2").bind(now).bind(&hash).execute(pool).await?;
            });
        }
        match self.user_row("id = $1", crate::Param::Int(user_id)).await? {
            Some(row) => self.principal(row).await,
            None => Ok(None),
        }
    }

    /// Gives an account a new password (the password rules apply) and ends its sessions, so that
    /// whoever held the old one is signed out (audited; the hash stays out of the trail).
    pub async fn set_password(&self, actor: &Actor, username: &str, password: &str) -> Result<()> {
        self.callers.clear();
        let user = self.user_by_name(username).await?.ok_or_else(|| missing!("refused.no_user", username = username))?;
        check_password(password, username).map_err(|e| StoreError::from(cordon_domain::refusal::Refusal::from(e)))?;
        let hash = hash_password(password.to_string()).await?;
        let change = Change::new("password", "user", user.id).after(serde_json::json!({"username": username}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind(&hash).bind(user.id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
            tx.append(actor, &change).await?;
            tx.commit().await?;
        });
        // Forgotten again once the change is committed: a caller read meanwhile is not kept.
        self.callers.clear();
        Ok(())
    }

    pub async fn end_session(&self, secret: &str) -> Result<()> {
        with_write_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(secret_hash(secret)).execute(pool).await?;
        });
        Ok(())
    }

    /// Creates a bearer token acting as `username`; the secret is returned once, never stored.
    pub async fn create_api_token(&self, actor: &Actor, username: &str, name: &str) -> Result<(i64, String)> {
        let user = self.user_by_name(username).await?.ok_or_else(|| missing!("refused.no_user", username = username))?;
        if user.disabled {
            return Err(refused!("refused.user_disabled", username = username));
        }
        let secret = new_secret()?;
        let now = Utc::now();
        let id = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(user.id).bind(name).bind(secret_hash(&secret)).bind(now).fetch_one(&mut *tx).await?;
            let change = Change::new("create", "api_token", id).after(serde_json::json!({"user": username, "name": name}));
            tx.append(actor, &change).await?;
            tx.commit().await?;
            id
        });
        Ok((id, format!("cdn_{secret}")))
    }

    /// Changes an account's name as shown, role and areas in one audited act (before and after).
    /// The role's permissions apply from the account's next request.
    pub async fn update_user(&self, actor: &Actor, username: &str, change: UserChange) -> Result<User> {
        self.callers.clear();
        let user = self.user_by_name(username).await?.ok_or_else(|| missing!("refused.no_user", username = username))?;
        if change.areas.is_empty() {
            return Err(refused!("refused.user_needs_area"));
        }
        let display_name = match change.display_name.trim() {
            "" => user.username.clone(),
            name => name.to_string(),
        };
        let jurisdiction = Jurisdiction::new(change.areas);
        let areas = |j: &Jurisdiction| j.areas().iter().map(|a| a.as_str().to_string()).collect::<Vec<_>>();
        let audit = Change::new("update", "user", user.id)
            .before(serde_json::json!({"display_name": user.display_name, "role": user.role.as_str(), "areas": areas(&user.jurisdiction)}))
            .after(serde_json::json!({"display_name": display_name, "role": change.role.as_str(), "areas": areas(&jurisdiction)}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET display_name = $1, role = $2 WHERE id = $3")
                .bind(&display_name).bind(change.role.as_str()).bind(user.id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM user_areas WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
            for a in jurisdiction.areas() {
                sqlx::query("INSERT INTO user_areas (user_id, area_code) VALUES ($1, $2)").bind(user.id).bind(a.as_str()).execute(&mut *tx).await?;
            }
            tx.append(actor, &audit).await?;
            tx.commit().await?;
        });
        // Forgotten again once the change is committed: a caller read meanwhile is not kept.
        self.callers.clear();
        Ok(User { display_name, role: change.role, jurisdiction, ..user })
    }

    /// Disables an account (its sessions end, its tokens are revoked) or enables it again;
    /// audited. False when it already was so.
    pub async fn set_user_disabled(&self, actor: &Actor, username: &str, disabled: bool) -> Result<bool> {
        self.callers.clear();
        let user = self.user_by_name(username).await?.ok_or_else(|| missing!("refused.no_user", username = username))?;
        if user.disabled == disabled {
            return Ok(false);
        }
        let audit =
            Change::new(if disabled { "disable" } else { "enable" }, "user", user.id).after(serde_json::json!({"username": username}));
        with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(disabled).bind(user.id).execute(&mut *tx).await?;
            if disabled {
                // Its sessions end and its tokens are revoked for good: enabling it again later
                // brings none of them back.
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&mut *tx).await?;
                sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                    .bind(Utc::now()).bind(user.id).execute(&mut *tx).await?;
            }
            tx.append(actor, &audit).await?;
            tx.commit().await?;
        });
        // Forgotten again once the change is committed: a caller read meanwhile is not kept.
        self.callers.clear();
        Ok(true)
    }

    /// How many enabled accounts hold `users.manage` through their role, leaving out `except`
    /// (an account about to be disabled or given another role) or counting `role` without it.
    pub(crate) async fn managers_left(&self, except: Option<i64>, role_without: Option<Role>) -> Result<i64> {
        let (n,): (i64,) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*) FROM users u WHERE u.disabled = FALSE AND u.id <> $1 AND u.role <> $2 \
             AND EXISTS (SELECT 1 FROM role_permissions r WHERE r.role = u.role AND r.permission = $3)",
        )
        .bind(except.unwrap_or(-1)).bind(role_without.map_or("", Role::as_str)).bind(Permission::UsersManage.as_str())
        .fetch_one(pool).await?);
        Ok(n)
    }

    /// The user name a token acts as, live or revoked.
    pub(crate) async fn api_token_owner(&self, id: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT u.username FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        ).bind(id).fetch_optional(pool).await?);
        Ok(row.map(|(u,)| u))
    }

    /// Every API token, live ones first, newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(with_read_pool!(self, pool => sqlx::query_as::<_, ApiToken>(
            "SELECT t.id, u.username, t.name, t.created_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             ORDER BY (t.revoked_at IS NULL) DESC, t.id DESC",
        )
        .fetch_all(pool)
        .await?))
    }

    /// Revokes a token; false when there is no such live token.
    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<bool> {
        self.callers.clear();
        let change = Change::new("revoke", "api_token", id);
        let revoked = with_write_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(Utc::now()).bind(id).execute(&mut *tx).await?.rows_affected();
            if n == 1 {
                tx.append(actor, &change).await?;
            }
            tx.commit().await?;
            n == 1
        });
        // Forgotten again once the change is committed: a caller read meanwhile is not kept.
        self.callers.clear();
        Ok(revoked)
    }

    /// The caller behind a bearer token, if it is live and its user enabled. Kept in memory for
    /// [`CALLER_TTL`] (a station's every scan carries the same token): a change to accounts,
    /// roles or tokens made here forgets them at once, one made by another process (the CLI)
    /// holds at most that long.
    pub async fn token_principal(&self, token: &str) -> Result<Option<Principal>> {
        let Some(secret) = token.strip_prefix("cdn_") else { return Ok(None) };
        let hash = secret_hash(secret);
        if let Some(p) = self.callers.get(&hash) {
            return Ok(Some(p));
        }
        let found: Option<(i64,)> = with_read_pool!(self, pool =>
            sqlx::query_as("SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(&hash).fetch_optional(pool).await?);
        let principal = match found {
            Some((user_id,)) => match self.user_row("id = $1", crate::Param::Int(user_id)).await? {
                Some(row) => self.principal(row).await?,
                None => None,
            },
            None => None,
        };
        if let Some(p) = &principal {
            self.callers.put(hash, p.clone());
        }
        Ok(principal)
    }
}

/// A row of `login_failures`: scope, key, failures, since, locked until.
type TallyRow = (String, String, i64, DateTime<Utc>, Option<DateTime<Utc>>);

/// How long a token's caller is kept in memory.
pub const CALLER_TTL: Duration = Duration::from_secs(5);

/// Callers of bearer tokens met within [`CALLER_TTL`], by the token's hash.
#[derive(Default)]
pub(crate) struct Callers {
    map: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Principal)>>,
}

impl Callers {
    fn get(&self, hash: &str) -> Option<Principal> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash).filter(|(at, _)| at.elapsed() < CALLER_TTL).map(|(_, p)| p.clone())
    }

    fn put(&self, hash: String, p: Principal) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < CALLER_TTL);
        }
        map.insert(hash, (std::time::Instant::now(), p));
    }

    /// Forgets every caller: after any change to accounts, roles or tokens.
    pub(crate) fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Whether `password` matches the argon2 `hash`, checked off the async threads. With no hash (an
/// unknown account) a decoy of the same cost is checked, so that the answer takes as long.
async fn password_matches(hash: Option<String>, password: &str) -> Result<bool> {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DECOY
                .get_or_init(|| Argon2::default().hash_password(b"a decoy no one signs in with").map(|h| h.to_string()).unwrap_or_default())
                .clone()
        });
        let ok = argon2::password_hash::phc::PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        real && ok
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))
}

/// An argon2 hash of a password, computed off the async threads.
async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(|e| StoreError::Task(format!("password hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secret_is_kept_as_its_sha256_in_lower_case_hex_as_stored_tokens_were() {
        assert_eq!(super::secret_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
