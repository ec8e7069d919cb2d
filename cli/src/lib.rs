//! The `litecore-ws` command: diagnoses a connection to Sync Gateway by running litecore-ws's own
//! connect path — what a replicator's socket runs — and reporting each step it takes
//! (`litecore-ws check URL …`). The binary (`src/main.rs`) only calls [`main`].
//!
//! One job per file: [`args`] (the command line and the replicator options it stands for),
//! [`probe`] (runs the library's connect path with a recording LiteCore side), [`whoami`] (who SG
//! took the credentials for), [`report`] (what the record means: attempts, the failed step),
//! [`verdict`], [`render_text`], [`render_json`].
//!
//! Exit status: 0 when the WebSocket upgrade succeeded, 1 when the check failed, 2 for bad usage.

// Documented for maintainers (built with --document-private-items): the overview links to the
// private modules.
#![allow(rustdoc::private_intra_doc_links)]

mod args;
mod probe;
mod render_json;
mod render_text;
mod report;
mod verdict;
mod whoami;

use args::{Cli, Cmd, Config};
use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use probe::Mode;
use report::{Report, Step};
use std::io::Write;
use std::process::ExitCode;
use tokio::time::Instant;

/// The whole command: parse, check, print; the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    let Cmd::Check(check) = cli.command;
    let config = match check.config() {
        Ok(c) => c,
        Err(e) => {
            let mut cmd = Cli::command();
            cmd.build();
            let sub = cmd
                .find_subcommand_mut("check")
                .expect("the check subcommand");
            return clap_exit(&sub.error(ErrorKind::ValueValidation, e));
        }
    };
    // Library log lines (a warning for the display-only connection, which accepts any
    // certificate) would only confuse the report; LCWS_LOG still turns them on.
    if std::env::var_os("LCWS_LOG").is_none() {
        litecore_ws::internals::set_log_threshold(5);
    }
    let report = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(check_connection(&config)),
        Err(e) => {
            eprintln!("litecore-ws: cannot start a runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let out = if config.json {
        format!("{}\n", render_json::render(&report))
    } else {
        render_text::render(&report)
    };
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) must not turn into a panic.
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints a clap message (help and version to stdout, errors to stderr) and exits with clap's
/// status: 0 for help and version, 2 for bad usage.
fn clap_exit(e: &clap::Error) -> ExitCode {
    // A closed stdout or stderr must not panic.
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// The check: the library's connect path, then (TLS refused) a display-only connection for the
/// certificates, (upgraded) who SG took us for; all within `--timeout`.
async fn check_connection(config: &Config) -> Report {
    let deadline = Instant::now() + config.timeout;
    let record = probe::run(&config.address, &config.options, deadline, Mode::Check).await;
    let mut report = Report::new(config, record);
    let target = report.last().target.clone();
    if report.failed_step() == Some(Step::Tls) {
        // Show the certificates anyway: the same connect path with acceptAllCerts, stopped by
        // refusing the certificate in gotPeerCertificate, so nothing is sent.
        let options = litecore_ws::internals::Options {
            accept_all_certs: true,
            ..config.options.clone()
        };
        let shown = probe::run(&target, &options, deadline, Mode::ShowCertificates).await;
        report.display_tls = shown.events.into_iter().find_map(|(_, e)| match e {
            probe::Event::Tls(t) => Some(t),
            _ => None,
        });
    }
    if report.record.opened.is_some() {
        let held = config
            .options
            .auth
            .as_ref()
            .is_some_and(|a| a.challenge_auth)
            && !report.challenge_retried();
        let ask = whoami::ask(&target, &config.address, &config.options, held);
        report.whoami = Some(
            tokio::time::timeout_at(deadline, ask)
                .await
                .unwrap_or_else(|_| {
                    whoami::WhoAmI::Unknown("the follow-up request timed out".into())
                }),
        );
    }
    report.verdict = Some(verdict::verdict(&report));
    report
}
