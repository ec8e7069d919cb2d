//! SIGPIPE on litecore-ws's own threads.
//!
//! Writing to a connection the peer has reset raises SIGPIPE, whose default action ends the
//! process. Rust programs ignore it at start-up, but a C or C++ app that loads this library
//! usually does not, and the process-wide disposition is the app's choice, not ours. `send` with
//! MSG_NOSIGNAL (what std uses for plain TCP) avoids it, but TLS records go out with `writev`,
//! which has no such flag. So every thread of litecore-ws's runtime blocks SIGPIPE for itself
//! when it starts: a write then fails with EPIPE, which the socket reports like any reset, and
//! the signal stays pending on that thread, harmlessly. Threads of the app are not touched.
//!
//! The one module besides `ffi/` and `interfaces.rs` allowed `unsafe`: a libc call std does not
//! wrap.

#![allow(unsafe_code)]

/// Blocks SIGPIPE for the calling thread (on Unix; elsewhere there is no SIGPIPE).
pub fn block_sigpipe_on_this_thread() {
    #[cfg(unix)]
    {
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given; sigaddset and pthread_sigmask read
        // it only after that; a NULL old-set pointer is allowed.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
        }
    }
}

/// Whether SIGPIPE is blocked on the calling thread (tests check litecore-ws's threads).
#[cfg(all(test, unix))]
pub fn sigpipe_blocked_on_this_thread() -> bool {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: with a NULL new set pthread_sigmask only writes the current mask into `set`,
    // which sigismember then reads.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), set.as_mut_ptr());
        libc::sigismember(set.as_ptr(), libc::SIGPIPE) == 1
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    /// In a child process (the test binary run again for this one test): SIGPIPE back to its
    /// default action, as a C app has it, then writes to a connection the peer closed, from
    /// this thread with SIGPIPE blocked when `LCWS_SIGPIPE_CHILD=block`.
    fn child() {
        // SAFETY: a child process made for this alone; nothing else runs in it.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        if std::env::var("LCWS_SIGPIPE_CHILD").as_deref() == Ok("block") {
            block_sigpipe_on_this_thread();
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(server);
        // The first write draws the peer's reset; a later `writev` (what TLS uses) meets EPIPE.
        for _ in 0..200 {
            let bufs = [std::io::IoSlice::new(&[1u8; 1024])];
            if client.write_vectored(&bufs).is_err() {
                std::process::exit(0);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::process::exit(3);
    }

    #[test]
    fn a_write_to_a_reset_connection_fails_instead_of_killing_the_process() {
        if std::env::var_os("LCWS_SIGPIPE_CHILD").is_some() {
            child();
        }
        let run = |mode: &str| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "signals::tests::a_write_to_a_reset_connection_fails_instead_of_killing_the_process",
                    "--nocapture",
                ])
                .env("LCWS_SIGPIPE_CHILD", mode)
                .status()
                .unwrap()
        };
        use std::os::unix::process::ExitStatusExt;
        // Without the block the signal ends the process (the test can fail)...
        assert_eq!(run("default").signal(), Some(libc::SIGPIPE));
        // ...with it the write fails and the process lives on.
        let blocked = run("block");
        assert!(blocked.success(), "{blocked:?}");
    }
}
