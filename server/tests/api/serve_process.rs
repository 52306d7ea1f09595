//! `sluice serve` as its own process, as an operator runs it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real `sluice serve`, alone in its process: its memory can be read, and it can be sent
/// signals.
pub struct ServeProcess {
    child: Child,
    pub url: String,
}

impl ServeProcess {
    /// Starts one on `database_url` with these extra environment variables.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> ServeProcess {
        ServeProcess::start_logging(database_url, env, None).await
    }

    /// Starts one whose log (from `info` up) goes to the file `log`, when given.
    // The child is waited for in `drop`, or before the panic below.
    #[allow(clippy::zombie_processes)]
    pub async fn start_logging(
        database_url: &str,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> ServeProcess {
        let (stderr, level) = match log {
            Some(path) => (
                Stdio::from(std::fs::File::create(path).expect("the log file")),
                "info,sqlx=warn",
            ),
            None => (Stdio::null(), "warn"),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .envs(env.iter().copied())
            .env("RUST_LOG", level)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("sluice serve starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..200 {
            if let Ok(r) = crate::harness::get(format!("{url}/healthz")).await {
                if r.status().is_success() {
                    return ServeProcess { child, url };
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("sluice serve did not answer /healthz");
    }

    /// How many of the process's threads check passwords.
    pub fn password_threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.child.id()))
            .expect("the process's threads")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with("password-"))
            .count()
    }

    /// The most memory the process has held (its peak resident set), in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kib / 1024
    }
}

impl ServeProcess {
    /// Sends SIGTERM, as a supervisor stopping the service does, and waits (at most 30 s) for
    /// the process to exit: whether it exited with success.
    pub async fn terminate(&mut self) -> bool {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                return status.success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sluice serve did not exit within 30 s of SIGTERM");
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
