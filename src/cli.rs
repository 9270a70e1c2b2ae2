//! The command line of jhctl itself (clap). Raw flags only: `run.rs` turns
//! them into settings and dispatches.

use clap::{Args, Parser, Subcommand};

/// Automate a JupyterHub with scripts: users, rosters, passwords, quota and the cluster.
#[derive(Debug, Parser)]
#[command(
    name = "jhctl",
    version = concat!(env!("CARGO_PKG_VERSION"), " (rhai ", env!("JHCTL_RHAI_VERSION"), ")"),
    about,
    after_help = "Bundled scripts: generate-users-template, manage-users, set-passwords, credentials (see `jhctl scripts`).\n\
                  Examples:\n  jhctl generate-users-template --prefix student --count 50 --output users.csv\n  \
                  jhctl manage-users create users.csv\n  jhctl eval 'hub.users().len()'"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command; give them before the script name.
#[derive(Debug, Args)]
pub struct Global {
    /// The hub's URL.
    #[arg(long, env = "JUPYTERHUB_URL", default_value = "http://localhost:30890", global = true)]
    pub url: String,
    /// API token of an admin (else the Kubernetes secret is read). Visible
    /// to other users of this machine in `ps`: prefer --token-file or the environment.
    #[arg(long, env = "JUPYTERHUB_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Read the API token from FILE (`-`: standard input); a trailing newline is ignored.
    #[arg(long, value_name = "FILE", global = true)]
    pub token_file: Option<String>,
    /// Trust the CA certificates in this PEM FILE for an https hub, on top of the
    /// system's (else REQUESTS_CA_BUNDLE, then SSL_CERT_FILE; -v says which).
    #[arg(long, value_name = "FILE", env = "JHCTL_CA_CERT", global = true)]
    pub cacert: Option<String>,
    /// Do not check the hub's TLS certificate (warned about on every run; prefer --cacert).
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Kubernetes namespace of the hub.
    #[arg(short = 'n', long, env = "JHCTL_NAMESPACE", default_value = "jupyterhub", global = true)]
    pub namespace: String,
    /// Kubernetes context (default: the kubeconfig's current one).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The most requests in flight at once; below it jhctl finds the hub's own limit as it runs (1: one at a time).
    #[arg(long, env = "JHCTL_CONCURRENCY", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=256), global = true)]
    pub concurrency: u16,
    /// Change nothing on the hub or the cluster: calls that would change something answer `planned`.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Print one JSON document on stdout (scripts that support it).
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Less output.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script file with its arguments (`--help` after the file is the script's).
    Run {
        // One list, so that everything after the file (`--help` too) goes to the script.
        /// The `.rhai` file, then the script's arguments.
        #[arg(value_name = "FILE [ARGS]", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// Evaluate Rhai code and print its value.
    Eval {
        /// The code, e.g. 'hub.users().len()'.
        code: String,
    },
    /// Interactive session with the same primitives.
    Repl,
    /// List the bundled scripts.
    Scripts,
    /// Show the primitives: all with a line each, or one in full.
    Doc {
        /// A primitive's name, e.g. create_users or roster::read.
        name: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// A bundled script by name, or a path to a .rhai file.
    #[command(external_subcommand)]
    Script(Vec<String>),
}
