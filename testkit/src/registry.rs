//! A registry served in-process on a real loopback socket (port 0), on SQLite in a temp dir or
//! on a fresh PostgreSQL database, with helpers to mint tokens.

use imagenest_core::Role;
use imagenest_registry::{
    AppState, RegistryConfig, auth,
    store::{NewAccountToken, Store},
};
use tokio::{sync::oneshot, task::JoinHandle};

pub use imagenest_registry::store::Backend;

/// A running registry. Dropping it stops the server.
pub struct TestRegistry {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub state: AppState,
    pub admin_token: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Opens a store of the given kind: SQLite in `dir`, or a fresh PostgreSQL database.
pub async fn open_store(backend: Backend, dir: &std::path::Path) -> Store {
    match backend {
        Backend::Sqlite => Store::open_sqlite(&dir.join("imagenest.db"))
            .await
            .expect("open SQLite store"),
        Backend::Postgres => Store::open(&crate::postgres::fresh_database().await)
            .await
            .expect("open PostgreSQL store"),
    }
}

impl TestRegistry {
    pub async fn start(backend: Backend) -> TestRegistry {
        TestRegistry::start_with(backend, RegistryConfig::default()).await
    }

    pub async fn start_with(backend: Backend, config: RegistryConfig) -> TestRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open_store(backend, dir.path()).await;
        let state = AppState::new(store, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let serve_state = state.clone();
        let task = tokio::spawn(async move {
            imagenest_registry::serve(listener, None, serve_state, async {
                let _ = rx.await;
            })
            .await
            .expect("registry serves");
        });
        let mut reg = TestRegistry {
            url,
            state,
            admin_token: String::new(),
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        };
        reg.admin_token = reg.token("admin", Role::Admin).await;
        reg
    }

    /// Mints an API token for `account` with `role`, straight through the store.
    pub async fn token(&self, account: &str, role: Role) -> String {
        let secret = auth::new_secret();
        self.state
            .store
            .create_token(NewAccountToken {
                account: account.to_string(),
                role,
                kind: Default::default(),
                cloud_account_id: None,
                description: String::new(),
                secret_hash: auth::hash_secret(&secret),
            })
            .await
            .expect("create token");
        secret
    }

    /// Stops the server, waiting for requests in flight.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
