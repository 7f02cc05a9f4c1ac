//! A PostgreSQL cluster of a test's own (initdb, pg_ctl), which the test may configure, stop and
//! start without disturbing the shared server. Run by the `postgres` system user when the tests
//! run as root (initdb and the server refuse root). Stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Holds the data directory, the socket, the log and any file a test writes for the server.
    directory: tempfile::TempDir,
    as_postgres_user: bool,
}

impl PrivateCluster {
    /// A cluster initialised and started. `None` with a printed notice where PostgreSQL's server
    /// programs are missing; under `CI=true` that is a failure.
    pub fn start(test: &str) -> Option<PrivateCluster> {
        let cluster = PrivateCluster::init(test)?;
        cluster.pg_ctl_start();
        Some(cluster)
    }

    /// A cluster initialised (initdb) but not started, for a test to configure first. It listens
    /// on 127.0.0.1 at a free port, and on a socket in its own directory only.
    pub fn init(test: &str) -> Option<PrivateCluster> {
        let Some(bin) = postgres_bin_dir() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but PostgreSQL's server programs (initdb, pg_ctl) were not found for {test}"
            );
            eprintln!("skipping {test}: PostgreSQL's initdb and pg_ctl were not found");
            return None;
        };
        let directory = tempfile::tempdir().expect("a temporary directory");
        let data = directory.path().join("data");
        let as_postgres_user = running_as_root();
        if as_postgres_user {
            chown_to_postgres(directory.path());
        }
        let port = free_port();
        let cluster = PrivateCluster { bin, data, port, directory, as_postgres_user };
        let data_text = cluster.data.display().to_string();
        cluster.run("initdb", &["-D", &data_text, "-A", "trust", "-U", "postgres", "--no-sync"]);
        cluster.configure(&format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n",
            cluster.port,
            cluster.directory.path().display()
        ));
        Some(cluster)
    }

    /// Appends `lines` to postgresql.conf (read at the next start).
    pub fn configure(&self, lines: &str) {
        use std::io::Write;
        let path = self.data.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("opening postgresql.conf");
        file.write_all(lines.as_bytes()).expect("writing postgresql.conf");
    }

    /// Replaces pg_hba.conf (read at the next start).
    pub fn set_hba(&self, contents: &str) {
        // The file exists and keeps its owner.
        std::fs::write(self.data.join("pg_hba.conf"), contents).expect("writing pg_hba.conf");
    }

    /// Writes `name` in the cluster's directory with `mode`, owned by the user the server runs as
    /// (PostgreSQL refuses a key file that others may read or that another user owns).
    pub fn write_file(&self, name: &str, contents: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.directory.path().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("setting a file's mode");
        if self.as_postgres_user {
            chown_to_postgres(&path);
        }
        path
    }

    /// One of PostgreSQL's programs, run as the user that owns the cluster.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        // A directory the server's user may enter, whatever the test's own is.
        command.current_dir(self.directory.path());
        command
    }

    fn run(&self, program: &str, arguments: &[&str]) {
        let output =
            self.command(program).args(arguments).output().unwrap_or_else(|error| panic!("running {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {arguments:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.server_log()
        );
    }

    fn log_path(&self) -> PathBuf {
        self.directory.path().join("postgres.log")
    }

    /// The server's log so far, to explain a start that failed.
    fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_path())
            .map(|log| format!("server log:\n{log}"))
            .unwrap_or_else(|_| "no server log".to_owned())
    }

    /// Starts the server and waits until it accepts connections.
    pub fn pg_ctl_start(&self) {
        let log = self.log_path().display().to_string();
        self.run("pg_ctl", &["-D", &self.data.display().to_string(), "-l", &log, "-w", "start"]);
    }

    /// A fast shutdown, as a restart does: sessions are terminated, then the server exits.
    pub fn pg_ctl_stop(&self) {
        self.run("pg_ctl", &["-D", &self.data.display().to_string(), "-m", "fast", "-w", "stop"]);
    }

    /// The URL of `database` over TCP on 127.0.0.1, without parameters.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self.command("pg_ctl").args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

fn postgres_bin_dir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let mut candidates: Vec<PathBuf> = from_pg_config.into_iter().collect();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> =
            entries.filter_map(|entry| entry.ok()).map(|entry| entry.path().join("bin")).collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev());
    }
    candidates.into_iter().find(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn chown_to_postgres(path: &Path) {
    let status =
        Command::new("chown").args(["postgres:", &path.display().to_string()]).status().expect("running chown");
    assert!(status.success(), "chown postgres {}", path.display());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
