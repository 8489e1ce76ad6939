//! The whole command surface. Doc comments are the help text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};

/// Give every Git worktree its own ports, env files, Docker Compose project and database.
///
/// git-atlas allocates ports per worktree (a deterministic offset, or the lowest free port of a
/// range), carries the main worktree's ignored env files into each worktree with its ports,
/// renders your templates, and releases it all when the worktree goes. Run it as `git atlas <command>`.
#[derive(Debug, Parser)]
#[command(
    name = "git-atlas",
    bin_name = "git atlas",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Say less: no progress lines, and `git worktree add` runs with --quiet.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Colour tables: on a terminal (auto, unless NO_COLOR is set), always or never.
    #[arg(long, value_name = "WHEN", global = true, default_value = "auto")]
    pub color: ColorWhen,
}

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a worktree (`git worktree add`), allocate its ports and write its env files.
    Add(Lazy<AddArgs>),
    /// Remove worktrees (`git worktree remove`), bring their Compose projects down and release their ports.
    Remove(Lazy<RemoveArgs>),
    /// List every worktree with its branch, ports and state.
    List(Lazy<ListArgs>),
    /// Print the current worktree's ports on one line (fast enough for a shell prompt), or manage ports.
    Ports(Lazy<PortsArgs>),
    /// Regenerate a worktree's env files (those carried from main, .env.local, .env.worktree) and docker-compose.yml.
    Env(Lazy<EnvArgs>),
    /// Run a worktree's Docker Compose project: up, down, ps, regenerate its docker-compose.yml.
    Docker(Lazy<DockerArgs>),
    /// A worktree's own databases (PostgreSQL, MariaDB/MySQL, SQLite): status, create, drop.
    Db(Lazy<DbArgs>),
    /// Run a program in a worktree with its generated values (its .env, ports,
    /// COMPOSE_PROJECT_NAME) in its environment: `git atlas exec -- docker compose up -d`.
    Exec(Lazy<ExecArgs>),
    /// Copy into a worktree the main worktree's ignored files and folders that .worktreeinclude
    /// and `[copy] include` name (node_modules/, .venv/, local certificates), by copy-on-write
    /// clones where the filesystem has them; never over a file the worktree has.
    Copy(Lazy<CopyArgs>),
    /// Run the project's setup steps (`[setup] run` in .atlas.toml: `npm ci`, migrations) in a
    /// worktree with its values in the environment, once this machine trusts them; or follow
    /// the run a hook started in the background (`--wait`).
    ///
    /// Each step is a command line run by `sh -c` in the worktree, with what `git atlas exec`
    /// gives a program (its .env values, PORT and the other ports, WORKTREE_NAME,
    /// COMPOSE_PROJECT_NAME), in order, stopping at the first that fails. `git atlas add` runs
    /// them once the worktree has its ports, env files, copies and databases; a plain `git
    /// worktree add` through the hooks runs them as `[setup] hook` says: `background` (the
    /// default; the output goes to a log that `setup --wait` shows), `wait` or `manual`.
    /// `[teardown] run` steps run before `git atlas remove` takes a worktree away.
    ///
    /// Steps are code from whoever last changed .atlas.toml: they run only once this machine
    /// trusted their exact text (a question on a terminal, or --trust), and a changed step is
    /// asked about again. A setup runs whole or not at all: hooks never ask, and run a setup
    /// only when all its steps are trusted, else name those that are not.
    Setup(Lazy<SetupArgs>),
    /// Install, remove or inspect the hooks that give plain `git worktree add` the same treatment.
    Hooks(Lazy<HooksArgs>),
    /// Print a shell completion script: `source <(git atlas completions bash)` (see the README
    /// for each shell). The bash, zsh and fish scripts also complete `git atlas <TAB>` through
    /// Git's own completion, and worktree names where a command takes one.
    Completions(Lazy<CompletionsArgs>),
    /// Print the manual page (roff), or install it where `man` finds it, so that
    /// `git atlas --help` and `git help atlas` show it.
    Man(Lazy<ManArgs>),
    /// Run by the hook shims: `git atlas hook <git-hook-name> [args…]`. Always exits 0.
    #[command(hide = true)]
    Hook(Lazy<HookArgs>),
}

/// A subcommand's arguments, defined only when that subcommand is the one being run
/// ([`clap::Command::defer`]): defining every subcommand's arguments on each run cost a fifth of
/// what `git atlas add` does before Git starts. Its help line (the variant's doc comment) is
/// defined at once, for `git atlas --help`.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        if EAGER.get() {
            T::augment_args(cmd)
        } else {
            cmd.defer(T::augment_args)
        }
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        if EAGER.get() {
            T::augment_args_for_update(cmd)
        } else {
            cmd.defer(T::augment_args_for_update)
        }
    }
}

thread_local! {
    /// Set while [`definition`] builds the command line.
    static EAGER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The whole command line with every subcommand's arguments defined, for what walks it rather
/// than parsing with it: the completion scripts and the manual page. (Clap defines deferred
/// parts only while it parses.)
pub fn definition() -> clap::Command {
    EAGER.set(true);
    let cmd = <Cli as clap::CommandFactory>::command();
    EAGER.set(false);
    cmd
}

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the post-checkout shim where Git looks for hooks (core.hooksPath respected),
    /// keeping any hook already there.
    Install(HooksInstallArgs),
    /// Remove the shims, restoring exactly what was there before.
    Uninstall,
    /// Say which shims are installed and whether the hooks can find git-atlas.
    #[command(mut_arg("json", |a| a.help(
        r#"Print JSON: {"version": 1, "hooks": [{directory, name, path, state}], "git_atlas_on_path", "skip_hooks"}"#
    )))]
    Status(JsonArgs),
}

#[derive(Debug, Args)]
pub struct HooksInstallArgs {
    /// Also install the reference-transaction shim, which releases the ports of a worktree Git
    /// removed at the next ref update; Git runs it several times per commit, which then costs
    /// about twice as much (a rebase six to eight times). Without it, an earlier install's
    /// reference-transaction shim is taken out.
    #[arg(long)]
    pub eager: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Install the page as <DIR>/man1/git-atlas.1 instead of printing it. DIR defaults to the
    /// `share/man` beside the directory git-atlas is installed in (`~/.cargo/share/man` for
    /// `~/.cargo/bin`), where `man` looks for the programs on PATH.
    #[arg(long)]
    pub install: bool,
    /// With --install: the man directory to install into.
    #[arg(long, value_name = "DIR", requires = "install")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// The Git hook being run.
    pub name: String,
    /// The hook's arguments, as Git passed them.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where to create the worktree; its directory name becomes the worktree's name.
    pub path: PathBuf,
    /// The commit, branch or tag to check out (as for `git worktree add`).
    pub commit_ish: Option<OsString>,
    /// Create a new branch named BRANCH starting at <commit-ish>.
    #[arg(short = 'b', value_name = "BRANCH", conflicts_with_all = ["force_branch", "detach"])]
    pub branch: Option<OsString>,
    /// Like -b, but reset BRANCH to <commit-ish> if it exists.
    #[arg(short = 'B', value_name = "BRANCH", conflicts_with = "detach")]
    pub force_branch: Option<OsString>,
    /// Check out a detached HEAD.
    #[arg(long)]
    pub detach: bool,
    /// Create the worktree without checking out files.
    #[arg(long)]
    pub no_checkout: bool,
    /// Lock the worktree after creating it.
    #[arg(long)]
    pub lock: bool,
    /// With --lock, the reason for the lock.
    #[arg(long, value_name = "STRING", requires = "lock")]
    pub reason: Option<OsString>,
    /// Set up upstream tracking for a new branch (as `git worktree add --track`).
    #[arg(long, conflicts_with = "no_track")]
    pub track: bool,
    /// Do not set up upstream tracking.
    #[arg(long)]
    pub no_track: bool,
    /// Create the worktree on a new, unborn branch (Git 2.42 or later).
    #[arg(long, conflicts_with_all = ["detach", "commit_ish"])]
    pub orphan: bool,
    /// Allocate ports but do not write env files or docker-compose.yml.
    #[arg(long)]
    pub no_env: bool,
    /// Start the new worktree's Compose project (`docker compose up -d`) once its files are written.
    #[arg(long, conflicts_with_all = ["no_docker", "no_env"])]
    pub up: bool,
    /// Skip everything Docker: no docker-compose.yml is written and nothing is started.
    #[arg(long)]
    pub no_docker: bool,
    /// Do not create the worktree's databases (`git atlas db create` does it later).
    #[arg(long)]
    pub no_db: bool,
    /// Do not copy what .worktreeinclude and `[copy] include` name (`git atlas copy` does it
    /// later).
    #[arg(long)]
    pub no_copy: bool,
    /// Do not run the project's setup steps (`git atlas setup` runs them later).
    #[arg(long)]
    pub no_setup: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
    /// Trust the steps of the worktree's .atlas.toml (setup and teardown) on this machine, as
    /// they are now, without a question, and run the setup; a step whose text changes later is
    /// asked about again.
    #[arg(long, conflicts_with_all = ["wait", "untrust"])]
    pub trust: bool,
    /// Trust the steps of the worktree's .atlas.toml no more, and run nothing.
    #[arg(long, conflicts_with = "wait")]
    pub untrust: bool,
    /// Run nothing: follow the setup that is running in the worktree (started in the
    /// background by a hook) to its end, showing its output; exit 0 if the last setup succeeded.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Worktrees to remove, by name, path or branch.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub worktrees: Vec<String>,
    /// Remove every linked worktree (never the main one).
    #[arg(long)]
    pub all: bool,
    /// Remove even with uncommitted changes or untracked files, which are lost.
    #[arg(long, short)]
    pub force: bool,
    /// Leave running what the worktree started: the processes listening on its ports and its
    /// Compose project (otherwise brought down as `[docker] on_remove` says: `down -v` by default).
    #[arg(long)]
    pub keep_services: bool,
    /// Seconds to wait after SIGTERM before sending SIGKILL.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    pub grace: f64,
    /// Also drop the worktree's own databases (as `[database] drop_on_remove` does); with
    /// --force, connections to them are ended (PostgreSQL, MariaDB).
    #[arg(long)]
    pub drop_db: bool,
    /// Do not run the project's teardown steps (`[teardown] run` in .atlas.toml) first.
    #[arg(long, conflicts_with = "trust")]
    pub no_teardown: bool,
    /// Trust the teardown steps of the worktrees' .atlas.toml on this machine without a
    /// question (without a terminal, untrusted teardown steps keep a worktree from removal).
    #[arg(long)]
    pub trust: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON: {"version": 1, "worktrees": [...]} (see the README for the fields).
    #[arg(long)]
    pub json: bool,
    /// Only worktrees with nothing listening on any of their ports.
    #[arg(long)]
    pub unused: bool,
    /// Print only the worktrees' names, one per line, as the repository lists them: nothing is
    /// reconciled or written (for scripts and shell completion).
    #[arg(long, conflicts_with_all = ["json", "unused"])]
    pub names: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PortsArgs {
    #[command(subcommand)]
    pub command: Option<PortsCommand>,
    /// Print JSON on one line: {"version": 1, "worktree", "offset", "ports": {service: port}}
    /// (offset and ports are null where nothing is allocated).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Print this template instead: {name}, {offset}, {ports} and {<service>} are replaced.
    #[arg(long, value_name = "TEMPLATE")]
    pub format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PortsCommand {
    /// Show one worktree's ports with their labels.
    Show(PortsShowArgs),
    /// List the ports of every worktree.
    List(PortsListArgs),
    /// Say who holds a port: AVAILABLE, allocated, marked unavailable, leased by another
    /// repository, or in use by a process (pid and command).
    Check(PortsCheckArgs),
    /// Capacity and use of every range (range strategy) or of the offset space.
    #[command(mut_arg("json", |a| a.help(
        r#"Print JSON: {"version": 1, "strategy", "worktrees", "ports", "unavailable", "leased_elsewhere", "offsets", "ranges": [...]}"#
    )))]
    Status(JsonArgs),
    /// Compare the registry with what is listening and with other repositories on this machine.
    #[command(mut_arg("json", |a| a.help(
        r#"Print JSON: {"version": 1, "conflicts": [{port, worktree, service, kind, detail}]}"#
    )))]
    CheckConflicts(JsonArgs),
    /// Never hand out PORT (e.g. a system service uses it).
    MarkUnavailable(MarkUnavailableArgs),
    /// Allow PORT to be handed out again.
    MarkAvailable(PortArg),
    /// Show or change this machine's settings: strategy, service ranges, conflict resolution.
    ///
    /// Settings go to worktree-registry/config.toml in the Git common dir and override .atlas.toml.
    /// Ranges: --<service>-range LO-HI, e.g. `git atlas ports config --web-range 8100-8199`.
    Config(PortsConfigArgs),
    /// Range strategy: reassign ports to fill gaps, then rewrite the affected env files.
    /// Ports that are listening right now stay where they are.
    Compact,
    /// Release one worktree's ports (a worktree that still exists gets ports again at the next
    /// git-atlas command).
    Release(ReleaseArgs),
    /// Release every allocation of this repository.
    ReleaseAll(ReleaseAllArgs),
    /// Release the ports of worktrees that no longer exist, and leases of repositories that are gone.
    Cleanup,
    /// Back the registry up, then rebuild it from the worktrees that exist.
    Reset,
    /// Back the registry up, then rebuild it from the worktrees that exist, keeping each
    /// worktree's current ports where its env files or running services show them.
    ScanRebuild,
}

/// The forms of `git atlas ports` a shell prompt uses, recognised without clap: `ports`,
/// `ports --json`, `ports --format T` and `ports --format=T`. Anything else (including `--help`)
/// returns `None` and goes through the full parser, which accepts the same forms.
pub fn prompt_fast_path(args: &[OsString]) -> Option<(bool, Option<String>)> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    match args.as_slice() {
        ["ports"] => Some((false, None)),
        ["ports", "--json"] => Some((true, None)),
        ["ports", "--format", t] if !t.starts_with('-') => Some((false, Some(t.to_string()))),
        ["ports", f] => f
            .strip_prefix("--format=")
            .map(|t| (false, Some(t.to_string()))),
        _ => None,
    }
}

/// A TCP port, 1-65535.
pub fn parse_port(text: &str) -> Result<u16, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a port number"))?;
    match u16::try_from(n) {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(format!("{n} is not a valid port (1-65535)")),
    }
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON: an object whose first key is "version" (see the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PortArg {
    #[arg(value_parser = parse_port)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct PortsCheckArgs {
    #[arg(value_parser = parse_port)]
    pub port: u16,
    /// Print JSON: {"version": 1, "port", "status", "available", "allocated", "unavailable",
    /// "leased", "listening": [...]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MarkUnavailableArgs {
    #[arg(value_parser = parse_port)]
    pub port: u16,
    /// Why (shown by `ports check` and `ports list`).
    pub reason: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PortsConfigArgs {
    /// The allocation strategy for new worktrees: `offset` or `range`.
    #[arg(long, value_parser = ["offset", "range"])]
    pub strategy: Option<String>,
    /// Conflict resolution, comma-separated: skip_to_next, expand_range, force_release; or `none`.
    #[arg(long, value_name = "LIST")]
    pub resolution: Option<String>,
    /// Print the effective settings as JSON instead: {"version": 1, "strategy", "offsets",
    /// "conflict_resolution", "services": [...], "local_config"} (see the README).
    #[arg(long, conflicts_with_all = ["strategy", "resolution", "ranges"])]
    pub json: bool,
    /// Service ranges: --<service>-range LO-HI (repeatable).
    #[arg(
        value_name = "--SERVICE-range LO-HI",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ranges: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The worktree, by name (also one that no longer exists), path or branch.
    pub worktree: String,
}

#[derive(Debug, Args)]
pub struct ReleaseAllArgs {
    /// Really release everything.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PortsShowArgs {
    /// The worktree, by name, path or branch.
    pub worktree: String,
    /// Print JSON: {"version": 1, "worktree", "offset", "ports": {service: port}}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PortsListArgs {
    /// Only this service (e.g. web, db, vite).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Print JSON: {"version": 1, "ports": [{worktree, service, label, port}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
}

#[derive(Debug, Args)]
pub struct DockerArgs {
    #[command(subcommand)]
    pub command: DockerCommand,
}

#[derive(Debug, Subcommand)]
pub enum DockerCommand {
    /// Start the worktree's project in the background (`docker compose up -d`).
    Up(WorktreeArg),
    /// Stop and remove the worktree's containers and networks (`docker compose down`).
    Down(DockerDownArgs),
    /// Show the containers of the worktree's project, or of every worktree: name, ports, state.
    Ps(DockerPsArgs),
    /// Render docker-compose.yml again from docker-compose.worktree.template.yml.
    Regenerate(WorktreeArg),
    /// Show the Compose project the worktree runs, as its files resolve: project name,
    /// files, each service's published host ports and container name, volume and network names.
    Config(DockerConfigArgs),
}

#[derive(Debug, Args)]
pub struct DockerConfigArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
    /// Print JSON: {"version": 1, "projects": [{name, directory, files, with_f, services:
    /// [{service, container_name, ports: [{host_ip, published, target, protocol}]}], volumes:
    /// [{key, name, external}], networks: [...]}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorktreeArg {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
}

#[derive(Debug, Args)]
pub struct DockerDownArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
    /// Also remove the project's named volumes, with their data (`down -v`).
    #[arg(long, short)]
    pub volumes: bool,
}

#[derive(Debug, Args)]
pub struct DockerPsArgs {
    /// The worktree (name, path or branch); default: every worktree.
    pub worktree: Option<String>,
    /// Print JSON: {"version": 1, "containers": [{worktree, project, service, name, state,
    /// status, ports, published}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show each worktree's databases: variable, name, server, whether it exists, its size.
    Status(DbStatusArgs),
    /// Create the worktree's databases that do not exist yet (copies of the main's with
    /// `[database] clone = true`).
    Create(DbCreateArgs),
    /// Drop the worktree's own databases (never the main worktree's).
    Drop(DbDropArgs),
    /// Take a snapshot of the main worktree's PostgreSQL databases (`myapp__atlas_snapshot`,
    /// again if there is one), for new worktrees to be copied from by the server while the
    /// main database is in use; `--drop` drops them. Nothing else drops a snapshot.
    Snapshot(DbSnapshotArgs),
}

#[derive(Debug, Args)]
pub struct DbStatusArgs {
    /// The worktree (name, path or branch); default: every worktree.
    pub worktree: Option<String>,
    /// Print JSON: {"version": 1, "databases": [{worktree, variable, engine, database, host,
    /// port, kind, exists, size_bytes, error}]}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DbCreateArgs {
    /// The worktree (name, path or branch); default: the current one.
    pub worktree: Option<String>,
    /// Start as a copy of the main worktree's database (default: `[database] clone`).
    #[arg(long, overrides_with = "empty")]
    pub clone: bool,
    /// Start empty, whatever `[database] clone` says.
    #[arg(long)]
    pub empty: bool,
    /// Seconds to wait for the server to accept connections (a container that is starting).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub wait: f64,
}

#[derive(Debug, Args)]
pub struct DbDropArgs {
    /// The worktree (name, path or branch).
    pub worktree: String,
    /// End the connections that hold the database, then drop it.
    #[arg(long, short)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DbSnapshotArgs {
    /// Drop the snapshots instead (refused while a session is connected to one).
    #[arg(long)]
    pub drop: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The worktree to run in (name, path or branch); default: the current one.
    #[arg(long, short, value_name = "WORKTREE")]
    pub worktree: Option<String>,
    /// The program and its arguments (after `--`); run directly, never through a shell.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn prompt_fast_path_only_takes_what_clap_would_take_the_same_way() {
        use super::*;
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        for (argv, want) in [
            (&["ports"][..], Some((false, None))),
            (&["ports", "--json"][..], Some((true, None))),
            (
                &["ports", "--format", "{web}"][..],
                Some((false, Some("{web}".to_string()))),
            ),
            (
                &["ports", "--format={web}"][..],
                Some((false, Some("{web}".to_string()))),
            ),
            (&["ports", "--help"][..], None),
            (&["ports", "list"][..], None),
            (&["ports", "--json", "--format", "x"][..], None),
        ] {
            assert_eq!(prompt_fast_path(&os(argv)), want, "{argv:?}");
            if let Some((json, format)) = want {
                let mut full = vec!["git-atlas"];
                full.extend(argv);
                let Command::Ports(Lazy(p)) = Cli::try_parse_from(full).unwrap().command else {
                    panic!()
                };
                assert_eq!(
                    (p.json, p.format, p.command.is_none()),
                    (json, format, true)
                );
            }
        }
    }

    /// Every command's help is the same whether its arguments were deferred (as `git-atlas`
    /// parses) or defined at once (as completion and the manual page see them).
    #[test]
    fn deferred_arguments_define_the_same_commands() {
        use clap::CommandFactory;
        fn same(lazy: &mut clap::Command, eager: &mut clap::Command, path: &str) {
            let (a, b) = (lazy.render_long_help(), eager.render_long_help());
            assert_eq!(a.to_string(), b.to_string(), "{path}");
            // (Clap's own `help` subcommand mirrors the tree as it was when its parent was
            // built; `git atlas help ports list` still finds the real `ports list`.)
            let names: Vec<String> = eager
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .filter(|n| n != "help")
                .collect();
            for name in names {
                let l = lazy.find_subcommand_mut(&name).unwrap();
                l.build();
                let e = eager.find_subcommand_mut(&name).unwrap();
                same(l, e, &format!("{path} {name}"));
            }
        }
        let (mut lazy, mut eager) = (super::Cli::command(), super::definition());
        lazy.build();
        eager.build();
        assert!(
            eager
                .find_subcommand("add")
                .unwrap()
                .get_arguments()
                .count()
                > 5
        );
        same(&mut lazy, &mut eager, "git-atlas");
    }

    #[test]
    fn verify_app() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
        super::definition().debug_assert();
    }
}
