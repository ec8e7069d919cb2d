//! `litecore-ws check URL …`: diagnoses a connection to Sync Gateway with litecore-ws's own code.
//! Argument parsing and the steps live in `litecore_ws::check`; this only prints.
//!
//! Exit status: 0 when the WebSocket upgrade succeeded, 1 when the check failed, 2 for bad usage.

use litecore_ws::check::{self, Command};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match check::parse_args(&args) {
        Ok(Command::Check(config)) => config,
        Ok(Command::Help) => {
            println!("{}", check::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("litecore-ws: {e}\n\n{}", check::USAGE);
            return ExitCode::from(2);
        }
    };
    let report = check::execute(&config);
    let out = if config.json {
        format!("{}\n", check::render_json(&report))
    } else {
        check::render_text(&report)
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
