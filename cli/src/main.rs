//! `litecore-ws`: the command-line tool. Everything is in the `litecore_ws_cli` library target
//! (documented and unit-tested like any crate); this only runs it.

fn main() -> std::process::ExitCode {
    litecore_ws_cli::main()
}
