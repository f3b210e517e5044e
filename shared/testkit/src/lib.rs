//! What the tests share: the port contract suite (one definition, run against both adapter
//! sets), the harnesses that build each set, and fixtures.

pub mod audio;
pub mod contract;
pub mod fake_asaas;
pub mod fake_graph;
pub mod fake_receiver;
pub mod fake_sockets;
pub mod fake_stt;
pub mod fake_telegram;
pub mod faults;
pub mod fixtures;
pub mod harness;

/// Shuffles `items` as a provider reorders its deliveries, the same way for the same
/// `seed` (so a failure replays).
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    items.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
}

/// A listener on a free loopback port, for a fake server; its address.
pub(crate) async fn loopback() -> (tokio::net::TcpListener, std::net::SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    (listener, addr)
}

/// Serves `app` on `listener` until the handle is dropped with the fake holding it.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> std::sync::Arc<tokio::task::JoinHandle<()>> {
    std::sync::Arc::new(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }))
}
