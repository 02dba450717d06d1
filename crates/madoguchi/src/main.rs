//! The `madoguchi` command. See `madoguchi --help`.

fn main() -> std::process::ExitCode {
    madoguchi::cli::main()
}
