//! A real PostgreSQL for the tests: Debian's server binaries (`/usr/lib/postgresql/*/bin`), a
//! cluster made by `initdb` in a temporary directory, listening on a free loopback port (and a
//! Unix socket in that directory), stopped when the guard drops (also on a panic). PostgreSQL
//! refuses to run as root: as root, the directory is handed to the `postgres` user (or `nobody`)
//! and the server runs through `runuser`. Without the binaries the tests fail, saying so: they
//! never skip (`./build.sh test` installs them).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The role the tests connect as (`initdb -U`, trust authentication on loopback only).
pub const ROLE: &str = "checkout";

pub struct Pg {
    dir: TempDir,
    bin: PathBuf,
    run_as: Option<String>,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("postgres").is_file() && b.join("initdb").is_file())
        .collect();
    // The newest major version.
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): these tests need a \
             real one; `./build.sh test` installs Debian's `postgresql`, or run `apt-get install postgresql`"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Pg {
    /// `initdb` and start a new cluster.
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new().prefix("lc-pg-").tempdir().unwrap();
        let run_as = is_root().then(|| {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| Command::new("id").arg(u).output().is_ok_and(|o| o.status.success()))
                .expect("running as root and neither a `postgres` nor a `nobody` user to run PostgreSQL as");
            check(
                "chown",
                Command::new("chown").args(["-R", user]).arg(dir.path()).output(),
            );
            user.to_owned()
        });
        let pg = Self {
            dir,
            bin,
            run_as,
            port: free_port(),
        };
        let data = pg.data();
        check(
            "initdb",
            pg.cmd("initdb")
                .args([
                    "-U",
                    ROLE,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                    "-D",
                ])
                .arg(&data)
                .output(),
        );
        pg.start_server();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory of the Unix socket (and the log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        check(
            &format!("pg_ctl {}", args.join(" ")),
            self.cmd("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.path().join("log"))
                .args(["-w", "-t", "60", "-o", &opts])
                .args(args)
                .output(),
        )
    }

    /// Start the server (after [`Pg::stop`]).
    pub fn start_server(&self) {
        self.pg_ctl(&["start"]);
    }

    /// Stop the server at once, as a crash would (`-m immediate`: no checkpoint, connections cut).
    pub fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The URL of database `db` over TCP.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn create_db(&self, name: &str) -> String {
        // On a thread of its own: the sync client runs its own runtime, which may not start inside
        // a test's Tokio runtime.
        let (admin, sql) = (self.url("postgres"), format!("CREATE DATABASE {name}"));
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
            c.batch_execute(&sql).unwrap();
        })
        .join()
        .unwrap();
        self.url(name)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Whatever state it is in; a stopped server makes pg_ctl fail, which is fine here.
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
