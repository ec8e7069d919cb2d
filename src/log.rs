//! Logging: every line goes to the host's sink when one is set, else to stderr.
//!
//! The level threshold comes from `LCWS_LOG` (`debug`, `verbose`, `info`, `warning`, `error`,
//! `none`; default `warning`) and applies to both destinations. Lines about one socket carry
//! its id (`#7`). Callers never format secrets into a line: options are logged through their
//! masking `Debug` impls only.

use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{OnceLock, RwLock};

/// Severity, numbered like LiteCore's `C4LogLevel` so a sink can pass it to `c4log` unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Verbose => "verbose",
            Level::Info => "info",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// Where log lines go when the host supplied a sink.
pub type Sink = Box<dyn Fn(Level, &str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
/// -1 until first read from the environment.
static THRESHOLD: AtomicI32 = AtomicI32::new(-1);
static ENV_THRESHOLD: OnceLock<i32> = OnceLock::new();

/// Parses an `LCWS_LOG` value; `None` for an unknown word.
pub fn parse_level(s: &str) -> Option<i32> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "debug" | "trace" => 0,
        "verbose" => 1,
        "info" => 2,
        "warning" | "warn" => 3,
        "error" => 4,
        "none" | "off" => 5,
        _ => return None,
    })
}

fn threshold() -> i32 {
    let t = THRESHOLD.load(Ordering::Relaxed);
    if t >= 0 {
        return t;
    }
    let t = *ENV_THRESHOLD.get_or_init(|| {
        std::env::var("LCWS_LOG")
            .ok()
            .and_then(|v| parse_level(&v))
            .unwrap_or(Level::Warning as i32)
    });
    THRESHOLD.store(t, Ordering::Relaxed);
    t
}

/// Overrides `LCWS_LOG` (0 = debug … 5 = none).
pub fn set_threshold(level: i32) {
    THRESHOLD.store(level.clamp(0, 5), Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as i32 >= threshold()
}

/// Installs (or removes) the host's sink.
pub fn set_sink(sink: Option<Sink>) {
    let mut guard = SINK.write().unwrap_or_else(|p| p.into_inner());
    *guard = sink;
}

/// Writes one line. `socket` is the socket id, when the line is about one socket.
pub fn write(level: Level, socket: Option<u64>, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let line = match socket {
        Some(id) => format!("#{id} {args}"),
        None => args.to_string(),
    };
    let guard = SINK.read().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref() {
        Some(sink) => sink(level, &line),
        None => eprintln!("[litecore-ws {}] {line}", level.tag()),
    }
}

/// `lcws_log!(Level::Info, Some(id), "format", args…)`
#[macro_export]
#[doc(hidden)]
macro_rules! lcws_log {
    ($level:expr, $socket:expr, $($arg:tt)+) => {
        $crate::log::write($level, $socket, format_args!($($arg)+))
    };
}

/// The text of a panic's payload (a `&str` or `String` message), for the log line that reports
/// it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words() {
        assert_eq!(parse_level("DEBUG"), Some(0));
        assert_eq!(parse_level(" warn "), Some(3));
        assert_eq!(parse_level("none"), Some(5));
        assert_eq!(parse_level("loud"), None);
    }
}
