//! The `arca` binary: server, client and admin tool. Thin by design: it parses arguments and the environment,
//! then calls into the crates. Only this crate reads the environment and the command line.
#![forbid(unsafe_code)]

mod audit;
mod cli;
mod config;
mod duration;
mod init;
mod open;
mod report;
mod secret_client;
mod serve;
mod token;

use clap::Parser;

/// mimalloc instead of glibc malloc: fewer cycles and no arena lock contention on the request paths.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::cli::{AuditCommand, Cli, Command, ReportCommand, SecretCommand, TokenCommand};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("arca: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => init::run(args).await,
            Command::Server(args) => serve::run(args).await,
            Command::Token {
                command: TokenCommand::Create(args),
            } => token::create(args).await,
            Command::Token {
                command: TokenCommand::Revoke(args),
            } => token::revoke(args).await,
            Command::Audit {
                command: AuditCommand::Verify(args),
            } => audit::verify(args).await,
            Command::Report { command } => match command {
                ReportCommand::Expiring(args) => report::expiring(args).await,
                ReportCommand::Orphans(args) => report::orphans(args).await,
            },
            Command::Secret { command } => match command {
                SecretCommand::Store(args) => secret_client::store(args).await,
                SecretCommand::Get(args) => secret_client::get(args).await,
                SecretCommand::List(args) => secret_client::list(args).await,
                SecretCommand::Delete(args) => secret_client::delete(args).await,
            },
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
