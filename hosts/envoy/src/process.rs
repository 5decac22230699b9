//! Starting, watching and stopping an Envoy process.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::bootstrap::Bootstrap;

/// How to run Envoy.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads (`--concurrency`).
    pub concurrency: u32,
    /// Pin Envoy to this CPU (with `taskset`), for benchmarks.
    pub cpu: Option<u32>,
    /// Envoy's log level (`-l`).
    pub log_level: String,
    /// Per-component levels (`--component-log-level`, e.g. `wasm:debug`).
    pub component_log_level: Option<String>,
    /// An access-log format written to Envoy's standard output, which
    /// [`Envoy::take_stdout`] hands over.
    pub access_log: Option<String>,
    /// How long Envoy may take to become ready.
    pub start_timeout: Duration,
    /// Kill Envoy when the thread that started it exits, even by `SIGKILL` (util-linux
    /// `setpriv --pdeathsig`): for a program whose main thread owns Envoy, so that killing the
    /// program never leaves Envoy behind. Leave it off when the starting thread may end first.
    pub die_with_parent: bool,
    /// A command that runs Envoy, with its arguments (`valgrind --tool=callgrind ...`): Envoy's
    /// command line is appended to it.
    pub wrapper: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 1,
            cpu: None,
            log_level: "warning".into(),
            component_log_level: None,
            access_log: None,
            start_timeout: Duration::from_secs(60),
            die_with_parent: false,
            wrapper: Vec::new(),
        }
    }
}

/// Why Envoy could not be started.
#[derive(Debug)]
pub enum EnvoyError {
    /// The binary is not there.
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Writing the configuration or starting the process failed.
    Io(String),
    /// Envoy exited while starting: it refused its configuration (its log says why).
    Exited {
        /// Envoy's exit status.
        status: ExitStatus,
        /// Everything Envoy logged.
        log: String,
    },
    /// Envoy did not become ready in time.
    NotReady {
        /// Everything Envoy logged.
        log: String,
    },
}

impl fmt::Display for EnvoyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { path } => write!(
                f,
                "Envoy is not installed at {}: {}",
                path.display(),
                polycors_artifacts::ENVOY_HOW_TO_INSTALL
            ),
            Self::Io(message) => write!(f, "cannot run Envoy: {message}"),
            Self::Exited { status, log } => {
                write!(f, "Envoy exited while starting ({status}); its log:\n{log}")
            }
            Self::NotReady { log } => write!(f, "Envoy did not become ready; its log:\n{log}"),
        }
    }
}

impl std::error::Error for EnvoyError {}

/// A running Envoy, stopped when dropped.
#[derive(Debug)]
pub struct Envoy {
    child: Child,
    dir: PathBuf,
    admin: SocketAddr,
    listeners: BTreeMap<String, SocketAddr>,
}

fn io(context: &str, path: &Path) -> impl FnOnce(std::io::Error) -> EnvoyError {
    let message = format!("{context} {}", path.display());
    move |e| EnvoyError::Io(format!("{message}: {e}"))
}

/// A fresh scratch directory for one Envoy run.
fn scratch_dir() -> Result<PathBuf, EnvoyError> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "polycors-envoy-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io("cannot create", &dir))?;
    Ok(dir)
}

impl Envoy {
    /// Starts Envoy with `bootstrap` and waits until it is ready. Fails with Envoy's log when
    /// Envoy exits instead (an invalid configuration, a plugin whose `on_configure` failed).
    pub fn start(bootstrap: &Bootstrap, options: &Options) -> Result<Self, EnvoyError> {
        let binary = polycors_artifacts::envoy_executable();
        if !binary.is_file() {
            return Err(EnvoyError::Missing { path: binary });
        }
        let dir = scratch_dir()?;
        let config = dir.join("envoy.json");
        let json = bootstrap.to_json(options.access_log.as_deref());
        std::fs::write(&config, json.to_string()).map_err(io("cannot write", &config))?;
        let admin_file = dir.join("admin-address");
        let log_file = dir.join("envoy.log");
        let log = File::create(&log_file).map_err(io("cannot create", &log_file))?;

        // Each wrapper execs the next, keeping the process (and its parent death signal).
        let mut program: Vec<std::ffi::OsString> = Vec::new();
        if options.die_with_parent {
            program.extend(["setpriv", "--pdeathsig", "KILL"].map(Into::into));
        }
        if let Some(cpu) = options.cpu {
            program.extend([
                "taskset".into(),
                "--cpu-list".into(),
                cpu.to_string().into(),
            ]);
        }
        program.extend(options.wrapper.iter().map(Into::into));
        program.push(binary.clone().into_os_string());
        let mut command = Command::new(&program[0]);
        command
            .args(&program[1..])
            .arg("--config-path")
            .arg(&config)
            .arg("--admin-address-path")
            .arg(&admin_file)
            .args(["--disable-hot-restart", "--concurrency"])
            .arg(options.concurrency.to_string())
            .args(["--log-level", &options.log_level]);
        if let Some(levels) = &options.component_log_level {
            command.args(["--component-log-level", levels]);
        }
        if let Some(dir) = bootstrap.dynamic_module_dir() {
            command.env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", dir);
        }
        command
            .stdin(Stdio::null())
            .stdout(if options.access_log.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(log);
        let child = command
            .spawn()
            .map_err(|e| EnvoyError::Io(format!("cannot start {}: {e}", binary.display())))?;
        let mut envoy = Self {
            child,
            dir,
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            listeners: BTreeMap::new(),
        };
        envoy.wait_ready(&admin_file, options.start_timeout)?;
        Ok(envoy)
    }

    fn wait_ready(&mut self, admin_file: &Path, timeout: Duration) -> Result<(), EnvoyError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EnvoyError::Exited {
                    status,
                    log: self.log(),
                });
            }
            if self.admin.port() == 0
                && let Some(address) = std::fs::read_to_string(admin_file)
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
            {
                self.admin = address;
            }
            if self.admin.port() != 0 && self.admin_get("/ready").is_ok_and(|r| r.trim() == "LIVE")
            {
                self.listeners = self.bound_listeners()?;
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EnvoyError::NotReady { log: self.log() });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The addresses Envoy bound, by listener name, from the admin's `/listeners`.
    fn bound_listeners(&self) -> Result<BTreeMap<String, SocketAddr>, EnvoyError> {
        let text = self.admin_get("/listeners?format=json")?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| EnvoyError::Io(format!("admin /listeners: {e}: {text}")))?;
        let mut out = BTreeMap::new();
        for status in value["listener_statuses"].as_array().into_iter().flatten() {
            let socket = &status["local_address"]["socket_address"];
            if let (Some(name), Some(ip), Some(port)) = (
                status["name"].as_str(),
                socket["address"].as_str(),
                socket["port_value"].as_u64(),
            ) && let (Ok(ip), Ok(port)) = (ip.parse(), u16::try_from(port))
            {
                out.insert(name.to_owned(), SocketAddr::new(ip, port));
            }
        }
        Ok(out)
    }

    /// The address of the listener named `name`.
    pub fn listener(&self, name: &str) -> Option<SocketAddr> {
        self.listeners.get(name).copied()
    }

    /// The admin endpoint's address (stats: `/stats`, memory: `/memory`).
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// `GET path` on the admin endpoint; the body.
    pub fn admin_get(&self, path: &str) -> Result<String, EnvoyError> {
        let fail = |e: std::io::Error| EnvoyError::Io(format!("admin {path}: {e}"));
        let mut stream =
            TcpStream::connect_timeout(&self.admin, Duration::from_secs(5)).map_err(fail)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(fail)?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.admin
        )
        .map_err(fail)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(fail)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        if !head.starts_with("HTTP/1.1 200") {
            return Err(EnvoyError::Io(format!(
                "admin {path}: {}",
                head.lines().next().unwrap_or("")
            )));
        }
        let chunked = head
            .lines()
            .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
        Ok(if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        })
    }

    /// The file Envoy logs to.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("envoy.log")
    }

    /// Everything Envoy has logged so far.
    pub fn log(&self) -> String {
        std::fs::read(self.log_path())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// Envoy's standard output (the access log, when [`Options::access_log`] is set), once.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The process id (for resident-memory readings).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether Envoy is still running; `Some(status)` once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops Envoy and removes its scratch directory.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The payload of a `Transfer-Encoding: chunked` body (stops at the first malformed chunk).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.shutdown();
    }
}
