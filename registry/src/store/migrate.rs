//! Numbered migrations (`migrations/NNNN_name.sql`), applied in order at start-up, each once,
//! each in its own transaction. Released migrations are never edited.

use sqlx::Row;

use super::{Backend, Result, Store, StoreError, now};

/// The migrations, in order. Add new ones at the end.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../migrations/0001_init.sql")),
    (
        2,
        "engine",
        include_str!("../../migrations/0002_engine.sql"),
    ),
    (
        3,
        "distribution_revision",
        include_str!("../../migrations/0003_distribution_revision.sql"),
    ),
];

/// Applies the migrations not applied yet, all in one transaction. On PostgreSQL an advisory
/// lock makes replicas that start together take turns: one migrates, the others then skip.
pub(super) async fn run(store: &Store) -> Result<()> {
    let mut w = store.begin_write().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(7316402)")
            .execute(&mut *w.tx)
            .await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *w.tx)
    .await?;
    let mut applied_now = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        let applied = sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations WHERE version = $1")
            .bind(version)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get::<i64, _>("n")?;
        if applied > 0 {
            continue;
        }
        sqlx::raw_sql(sql).execute(&mut *w.tx).await.map_err(|e| {
            StoreError::corrupt(format!("migration {version:04}_{name} failed: {e}"))
        })?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(name)
        .bind(now())
        .execute(&mut *w.tx)
        .await?;
        applied_now.push((version, name));
    }
    w.commit().await?;
    for (version, name) in applied_now {
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
