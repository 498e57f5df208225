//! A throw-away PostgreSQL for tests, and a fresh database per test.
//!
//! With `IMAGENEST_TEST_DATABASE_URL` set (CI may point it at a server it started), databases
//! are created there. Otherwise the first test of a process starts a private server from the
//! `initdb` and `postgres` binaries on PATH in a temporary directory (as the `postgres` user when
//! running as root, since PostgreSQL refuses root). The server dies with the test process.
//! Without either, tests fail with a message saying what to install.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use sqlx::{Connection, Executor};

struct Server {
    /// `postgres://user@host:port` without a database.
    base_url: String,
    _dir: Option<tempfile::TempDir>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

const HOW_TO: &str = "PostgreSQL tests need the PostgreSQL server binaries (initdb, postgres) on PATH \
    (Debian: apt-get install postgresql; add /usr/lib/postgresql/<v>/bin to PATH), \
    or IMAGENEST_TEST_DATABASE_URL=postgres://user@host:port/db pointing at a server the tests may create databases on";

/// A URL to a brand-new, empty database for one test. Panics with instructions when no
/// PostgreSQL can be had.
pub async fn fresh_database() -> String {
    let server = SERVER
        .get_or_init(start_on_keeper_thread)
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}\n{HOW_TO}"));
    let name = format!("t_{}", random_suffix());
    let admin_url = format!("{}/postgres", server.base_url);
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {admin_url}: {e}"));
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    format!("{}/{name}", server.base_url)
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| (b'a' + rng.random_range(0..26)) as char)
        .collect()
}

/// Starts the server from a thread that lives as long as the process: the server is killed when
/// the thread that started it ends (PR_SET_PDEATHSIG follows the parent thread), and test threads
/// come and go.
fn start_on_keeper_thread() -> Result<Server, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-keeper".into())
        .spawn(move || {
            let _ = tx.send(start());
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    rx.recv()
        .map_err(|_| "the PostgreSQL starter thread died".to_string())?
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("IMAGENEST_TEST_DATABASE_URL") {
        // Strip the database name: tests create their own next to it.
        let base = match url.rfind('/') {
            Some(i) if i > "postgres://".len() => url[..i].to_string(),
            _ => url,
        };
        return Ok(Server {
            base_url: base,
            _dir: None,
        });
    }
    let initdb = find_binary("initdb")
        .ok_or("`initdb` was not found on PATH or in /usr/lib/postgresql/*/bin")?;
    let postgres = find_binary("postgres")
        .ok_or("`postgres` was not found on PATH or in /usr/lib/postgresql/*/bin")?;
    let dir = tempfile::Builder::new()
        .prefix("imagenest-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let ids = run_as_ids()?;
    if let Some((uid, gid)) = ids {
        chown(dir.path(), uid, gid)?;
    }
    let data = dir.path().join("db");
    let mut cmd = Command::new(&initdb);
    cmd.args(["-D"]).arg(&data).args([
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-sync",
        "--no-instructions",
    ]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    as_user(&mut cmd, ids, false);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", initdb.display()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port()?;
    let mut cmd = Command::new(&postgres);
    cmd.arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path());
    for setting in [
        "listen_addresses=127.0.0.1",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=200",
    ] {
        cmd.args(["-c", setting]);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    as_user(&mut cmd, ids, true);
    cmd.spawn()
        .map_err(|e| format!("cannot start {}: {e}", postgres.display()))?;
    let base_url = format!("postgres://postgres@127.0.0.1:{port}");
    wait_ready(&format!("{base_url}/postgres"))?;
    Ok(Server {
        base_url,
        _dir: Some(dir),
    })
}

fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// As root, the uid/gid of the `postgres` user to run the server as.
fn run_as_ids() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL in a literal");
    // SAFETY: getpwnam gets a valid C string; the result is read before any other passwd call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err("running as root, and PostgreSQL refuses root, but there is no `postgres` user to run it as".into());
    }
    // SAFETY: pw is non-null and points to a passwd record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("cannot chown {}: {e}", path.display()))
}

fn as_user(cmd: &mut Command, ids: Option<(u32, u32)>, die_with_parent: bool) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = ids {
        cmd.uid(uid).gid(gid);
    }
    if die_with_parent {
        // SAFETY: prctl is async-signal-safe; it runs after the uid switch (which would clear
        // the setting), so the server gets SIGKILL when the test process exits.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

fn free_port() -> Result<u16, String> {
    let l =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn wait_ready(url: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    loop {
        let attempt = rt.block_on(async { sqlx::PgConnection::connect(url).await.map(drop) });
        match attempt {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => {
                return Err(format!("PostgreSQL did not come up within 30 s: {e}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
