//! The `jhctl` binary: everything happens in [`jhctl::run::run`].

fn main() {
    std::process::exit(jhctl::run::run());
}
