//! A database outage seen by a real `sluice serve` on PostgreSQL, cut by a TCP proxy in the
//! middle: devices are still answered, the catalog listener backs off instead of reconnecting
//! in a tight loop, and says so once when the outage starts and once when it ends.

use crate::devices::{publish, recalbox, register, ON_0824};
use crate::harness::Backend;
use crate::serve_process::ServeProcess;
use reqwest::StatusCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const LOST: &str = "catalog listener cannot reach the database";
const BACK: &str = "catalog listener reaches the database again";
/// How long the database stays out of reach.
const OUTAGE: Duration = Duration::from_secs(6);

/// Forwards connections to `target` while up; while down, closes each one at once (and counts
/// them) and has cut the ones it was forwarding.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let port = listener.local_addr().expect("its address").port();
        let up = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(AtomicUsize::new(0));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, refused2, links2) = (up.clone(), refused.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    refused2.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let target = target.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Proxy {
            port,
            up,
            refused,
            links,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn lines_with(log: &std::path::Path, text: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(text))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_told_once_devices_are_still_answered_and_nothing_spins() {
    let (app, admin) = recalbox(Backend::Postgres).await;
    register(
        &app,
        &admin,
        &crate::devices::build("master", "master-2017-08-26-891011", &["rpi3"]),
    )
    .await;
    publish(&app, &admin, "master-2017-08-26-891011").await;
    // postgres://user@host:port/name: the proxy takes the place of host:port.
    let (scheme_user, rest) = app.database_url.split_once('@').expect("a URL with a user");
    let (address, database) = rest.split_once('/').expect("a URL with a database");
    let proxy = Proxy::start(address.to_string()).await;
    let through_proxy = format!("{scheme_user}@127.0.0.1:{}/{database}", proxy.port);
    let dir = tempfile::tempdir().expect("a folder");
    let log = dir.path().join("sluice.log");
    let server = ServeProcess::start_logging(&through_proxy, &[], Some(&log)).await;
    let offered = |server: &ServeProcess| {
        let url = format!("{}/v1/upgrade?{ON_0824}", server.url);
        async move { crate::harness::get(url).await.unwrap().status() }
    };
    assert_eq!(offered(&server).await, StatusCode::OK);

    proxy.cut();
    // The outage itself: how long the database is away, not a wait for work to finish.
    tokio::time::sleep(OUTAGE).await;
    assert_eq!(
        offered(&server).await,
        StatusCode::OK,
        "answered from memory"
    );
    let attempts = proxy.refused.load(Ordering::SeqCst);
    assert_eq!(lines_with(&log, LOST), 1, "the outage is told once");
    // A listener that reconnects at once tried about 200 times a second; backing off, every
    // job of the process together tries a few times a second.
    assert!(
        attempts < 20 * OUTAGE.as_secs() as usize,
        "{attempts} connection attempts in {OUTAGE:?}"
    );

    proxy.restore();
    // Polled: the listener's next attempt comes after its back-off (at most 30 s).
    for _ in 0..600 {
        if lines_with(&log, BACK) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(lines_with(&log, BACK), 1, "the recovery is told once");
    assert_eq!(lines_with(&log, LOST), 1);
    assert_eq!(offered(&server).await, StatusCode::OK);
    drop(server);
}
