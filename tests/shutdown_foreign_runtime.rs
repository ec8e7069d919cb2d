//! `lcws_shutdown` from a thread of the host's own tokio runtime (Rust bindings run one) is an
//! application thread, not one of litecore-ws's: it must not be refused as "in a callback".
//! (Its own process: shutting the runtime down must not disturb other tests.)

use litecore_ws::ffi::exports::{lcws_set_worker_threads, lcws_shutdown, LcwsStatus};

#[test]
fn shutdown_from_a_foreign_runtime_is_allowed() {
    let host_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    // litecore-ws's own runtime is not running yet (the worker count can still be set), so
    // the only reason for a refusal would be mistaking the host's runtime for ours.
    assert_eq!(lcws_set_worker_threads(2), LcwsStatus::Ok);
    let status = host_runtime
        .block_on(async { tokio::task::spawn(async { lcws_shutdown() }).await.unwrap() });
    assert_eq!(status, LcwsStatus::Ok);
    // And from a blocking task of that runtime.
    let status = host_runtime
        .block_on(async { tokio::task::spawn_blocking(|| lcws_shutdown()).await })
        .unwrap();
    assert_eq!(status, LcwsStatus::Ok);
}
